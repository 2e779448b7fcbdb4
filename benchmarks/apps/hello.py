"""The ceiling: a bare Flask app that parses the JSON body and answers a constant, no model at all."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/predict", methods=["POST"])
def predict():
    request.get_json()
    return jsonify({"prediction": ["setosa"]})
