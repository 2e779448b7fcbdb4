"""The least a Flask app can do to serve the project's model: the ceiling for any Flask service of it.

The project's own ONNX copy (BARE_ONNX_PATH) in onnxruntime, the answer the service gives
(predictions, classes, probabilities), and nothing else: no validation, no request id, no log
line, no metrics, no security headers, no error handling.
"""

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime
from flask import Flask, jsonify, request

MODEL = Path(os.environ["BARE_ONNX_PATH"])
CLASSES = json.loads(MODEL.with_suffix(".json").read_text())["class_labels"]

app = Flask(__name__)
_sessions = {}


def session() -> tuple[onnxruntime.InferenceSession, str]:
    """One session per worker, made after the fork like the service's, and its input's name."""
    if os.getpid() not in _sessions:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        made = onnxruntime.InferenceSession(MODEL.read_bytes(), options, providers=["CPUExecutionProvider"])
        _sessions[os.getpid()] = made, made.get_inputs()[0].name
    return _sessions[os.getpid()]


@app.route("/predict", methods=["POST"])
def predict():
    features = np.array([request.get_json()["features"]], dtype=np.float64)
    model, input_name = session()
    probabilities = model.run(["probabilities"], {input_name: features})[0]
    labels = [CLASSES[index] for index in probabilities.argmax(axis=1)]
    return jsonify(predictions=labels, classes=CLASSES, probabilities=probabilities.tolist())
