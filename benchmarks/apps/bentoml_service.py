"""The BentoML peer: a 1.x `@bentoml.service` on the same fitted pipeline, from the benchmark's pickle.

    BENTO_MODEL_PATH=model.pkl BENTO_WORKERS=2 bentoml serve apps.bentoml_service:Classifier

The pickle is the one run.py exports from the project's models/model.skops (the same fitted
pipeline, loaded in BentoML's venv by the same scikit-learn version). The answer is the service's:
predictions, classes, probabilities, from the Pipeline's predict_proba.
"""

import os
import pickle
from pathlib import Path

import bentoml
import numpy as np


@bentoml.service(workers=int(os.environ.get("BENTO_WORKERS", "1")))
class Classifier:
    def __init__(self) -> None:
        model_bytes = Path(os.environ["BENTO_MODEL_PATH"]).read_bytes()
        self.model = pickle.loads(model_bytes)  # noqa: S301 -- the benchmark's own pickle, written moments ago
        self.classes = [str(label) for label in self.model.classes_]

    @bentoml.api
    def predict(self, features: list[float]) -> dict:
        probabilities = self.model.predict_proba(np.array([features], dtype=np.float64))
        labels = [self.classes[index] for index in probabilities.argmax(axis=1)]
        return {"predictions": labels, "classes": self.classes, "probabilities": probabilities.tolist()}
