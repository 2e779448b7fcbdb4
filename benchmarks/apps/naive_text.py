"""The seed pattern for the text task: a pickle loaded at import, one route, no validation, no error handling.

The pickle's path comes from NAIVE_MODEL_PATH (run.py writes it from the text project's own skops model).
"""

import os
import pickle

from flask import Flask, jsonify, request

app = Flask(__name__)
model = pickle.load(open(os.environ["NAIVE_MODEL_PATH"], "rb"))  # noqa: S301, SIM115, PTH123 -- the seed, verbatim


@app.route("/predict", methods=["POST"])
def predict():
    data = request.json
    text = data["text"]
    prediction = model.predict([text])
    return jsonify({"prediction": prediction.tolist()})
