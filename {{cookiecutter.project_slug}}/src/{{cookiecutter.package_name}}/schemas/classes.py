"""Class labels, with one probability per class: the output of a classifier.

For training it says how targets are read (as labels), checked (two examples of each class at
least), split (stratified) and scored (accuracy, macro F1); for serving, how the runtime's
probabilities become the answer, its JSON Schema, its /v2 outputs, the page's result and the CLI's
columns.
"""

import dataclasses
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data.data_loader import DataError, Dataset, Rows, filled_column
from ..errors import ApiError


@dataclasses.dataclass(frozen=True)
class ClassPrediction:
    """Labels, and a rows x classes array of probabilities in `class_labels` order.

    The probabilities stay an array (C-ordered float64, as orjson wants it): the API's JSON encoder
    writes it as it is, which for 1000 rows saves the 160 µs that turning it into lists costs."""

    labels: list[str]
    probabilities: np.ndarray


class Classes:
    """The model's classes, in the order of its probability columns."""

    stratify = True
    sklearn_method = "predict_proba"  # what the scikit-learn runtime calls
    onnx_output = "probabilities"  # the ONNX export's output the ONNX runtime reads
    # Probabilities of the ONNX copy may differ from scikit-learn's by rounding only.
    onnx_tolerance = 1e-9
    output_names = ("label", "probabilities")  # of /v2
    template = "classes.html"  # what the page shows of the model and of a prediction (api/templates)

    def __init__(self, class_labels: list[str]):
        self.class_labels = list(class_labels)
        self._label_array = np.array(self.class_labels, dtype=object)

    # Training.

    @staticmethod
    def read_targets(path: Path, header: list[str], rows: Rows, column: str) -> np.ndarray:
        return np.array([label.strip() for label in filled_column(path, header, rows, column, "target", "label")])

    @staticmethod
    def check_trainable(targets: np.ndarray) -> None:
        classes, counts = np.unique(targets, return_counts=True)
        if len(classes) < 2:
            raise DataError("training data needs at least two classes")
        if counts.min() < 2:
            rare = classes[counts.argmin()]
            raise DataError(f"class '{rare}' has a single example; every class needs at least two")

    @staticmethod
    def evaluate(estimator: Any, data: Dataset) -> dict[str, float]:
        """Scores on held-out data: accuracy, and macro F1 so that a small class counts as much as a big one."""
        from sklearn.metrics import accuracy_score, f1_score

        predicted = estimator.predict(data.features)
        return {
            "accuracy": round(float(accuracy_score(data.targets, predicted)), 4),
            "f1_macro": round(float(f1_score(data.targets, predicted, average="macro")), 4),
        }

    @staticmethod
    def describe(estimator: Any) -> dict[str, Any]:
        return {"class_labels": [str(label) for label in estimator.classes_]}

    @staticmethod
    def onnx_options(estimator: Any) -> dict[int, Any]:
        """Probabilities as a plain matrix, not skl2onnx's default list of {class: probability} maps."""
        return {id(estimator.steps[-1][1]): {"zipmap": False}}

    # Serving.

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "Classes":
        labels = metadata.get("class_labels")
        if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(label, str) for label in labels):
            raise ValueError("metadata field 'class_labels' must list at least two class labels")
        return cls(labels)

    def predict(self, scores: np.ndarray) -> ClassPrediction:
        """The runtime's probabilities as labels and probabilities; a row whose probabilities overflowed is a 422."""
        probabilities = np.ascontiguousarray(scores, dtype=np.float64)
        unscorable = np.flatnonzero(~np.isfinite(probabilities).all(axis=1)).tolist()
        if unscorable:
            problem = "has values too large for the model to score"
            raise ApiError(
                f"row {unscorable[0]}: {problem} (its probabilities overflow)",
                [{"row": row, "problem": problem} for row in unscorable],
            )
        return ClassPrediction(self._label_array[probabilities.argmax(axis=1)].tolist(), probabilities)

    def answer(self, prediction: ClassPrediction) -> dict[str, Any]:
        return {
            "predictions": prediction.labels,
            "classes": self.class_labels,
            "probabilities": prediction.probabilities,
        }

    def answer_schema(self) -> dict[str, dict[str, Any]]:
        label = {"type": "string", "enum": list(self.class_labels)}
        width = len(self.class_labels)
        probabilities = {
            "type": "array",
            "items": {"type": "number", "minimum": 0, "maximum": 1},
            "minItems": width,
            "maxItems": width,
        }
        return {
            "predictions": {"type": "array", "items": label, "minItems": 1},
            "classes": {"type": "array", "items": label},
            "probabilities": {"type": "array", "items": probabilities, "minItems": 1},
        }

    def tally(self, prediction: ClassPrediction) -> Counter[str]:
        """Rows predicted, by class (the metrics count them)."""
        return Counter(prediction.labels)

    def v2_metadata(self) -> list[dict[str, Any]]:
        return [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(self.class_labels)]},
        ]

    def v2_outputs(self, prediction: ClassPrediction) -> dict[str, dict[str, Any]]:
        rows = len(prediction.labels)
        return {
            "label": {"name": "label", "shape": [rows], "datatype": "BYTES", "data": prediction.labels},
            "probabilities": {
                "name": "probabilities",
                "shape": [rows, len(self.class_labels)],
                "datatype": "FP64",
                "data": prediction.probabilities.ravel(),
            },
        }

    def csv_header(self) -> list[str]:
        return ["prediction", *(f"probability_{label}" for label in self.class_labels)]

    def csv_cells(self, prediction: ClassPrediction) -> list[list[Any]]:
        return [
            [label, *(round(score, 6) for score in scores)]
            for label, scores in zip(prediction.labels, prediction.probabilities.tolist(), strict=True)
        ]

    def page_result(self, prediction: ClassPrediction) -> dict[str, Any]:
        """What the page shows of one prediction, and the short form its history keeps."""
        (label,), (scores,) = prediction.labels, prediction.probabilities.tolist()
        return {
            "label": label,
            "probabilities": list(zip(self.class_labels, scores, strict=True)),
            "summary": f"{label} ({max(scores):.3f})",
        }
