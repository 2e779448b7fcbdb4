"""A lean FastAPI peer: what a user would write instead of this template, serving the same ONNX model.

`app` answers a plain dict; `app_with_response_model` is the same app with a pydantic
`response_model`, which FastAPI validates and serializes each answer through. The project's own
ONNX copy (FASTAPI_ONNX_PATH) in onnxruntime, one session per worker with one thread, made at
import (uvicorn imports the app in each worker process).
"""

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime
from fastapi import FastAPI
from pydantic import BaseModel

MODEL = Path(os.environ["FASTAPI_ONNX_PATH"])
CLASSES = json.loads(MODEL.with_suffix(".json").read_text())["class_labels"]


def make_session() -> tuple[onnxruntime.InferenceSession, str]:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(MODEL.read_bytes(), options, providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


SESSION, INPUT_NAME = make_session()


class Features(BaseModel):
    features: list[float]


class Prediction(BaseModel):
    predictions: list[str]
    classes: list[str]
    probabilities: list[list[float]]


def predict(request: Features) -> dict:
    probabilities = SESSION.run(["probabilities"], {INPUT_NAME: np.array([request.features], dtype=np.float64)})[0]
    labels = [CLASSES[index] for index in probabilities.argmax(axis=1)]
    return {"predictions": labels, "classes": CLASSES, "probabilities": probabilities.tolist()}


def make_app(response_model: type[BaseModel] | None) -> FastAPI:
    made = FastAPI()
    made.post("/predict", response_model=response_model)(predict)
    return made


app = make_app(None)
app_with_response_model = make_app(Prediction)
