"""Numbers, one per row: the output of a regressor.

For training it says how targets are read (as finite numbers), checked (two rows and two distinct
values at least), split (not stratified: a number has no class) and scored (MAE, RMSE and R² on the
held-out rows); for serving, how the runtime's values become the answer, its JSON Schema, its /v2
output, the page's result and the CLI's column.
"""

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data.data_loader import DataError, Dataset, Rows, numeric_columns
from ..errors import ApiError

# The page shows a value with this many decimals; the API answers it unrounded (the CLI: 6 decimals).
SHOWN_DECIMALS = 3


class Values:
    """A regressor's predictions; `target` names what they estimate."""

    stratify = False
    sklearn_method = "predict"  # what the scikit-learn runtime calls
    onnx_output = "variable"  # skl2onnx's name for a regressor's output
    # The ONNX copy computes in float64 as scikit-learn does: on the diabetes example (values 25 to 350)
    # the two differed by 6e-14 at most, one rounding step; a float32 path or a wrong weight shows as 1e-4 or more.
    onnx_tolerance = 1e-6
    output_names = ("prediction",)  # of /v2
    template = "values.html"  # what the page shows of the model and of a prediction (api/templates)

    def __init__(self, target: str):
        self.target = target

    # Training.

    @staticmethod
    def read_targets(path: Path, header: list[str], rows: Rows, column: str) -> np.ndarray:
        if column not in header:
            raise DataError(f"{path}: target column '{column}' is missing (columns: {', '.join(header)})")
        return numeric_columns(path, header, rows, [column])[:, 0]

    @staticmethod
    def check_trainable(targets: np.ndarray) -> None:
        if len(np.unique(targets)) < 2:
            raise DataError("training data needs at least two distinct target values")

    @staticmethod
    def evaluate(estimator: Any, data: Dataset) -> dict[str, float]:
        """Scores on held-out data: mean absolute error and root mean squared error (in the target's unit),
        and R², the share of the target's variance the model explains."""
        from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

        predicted = estimator.predict(data.features)
        return {
            "mae": round(float(mean_absolute_error(data.targets, predicted)), 4),
            "rmse": round(float(np.sqrt(mean_squared_error(data.targets, predicted))), 4),
            "r2": round(float(r2_score(data.targets, predicted)), 4),
        }

    @staticmethod
    def describe(_estimator: Any) -> dict[str, Any]:
        return {}

    @staticmethod
    def onnx_options(_estimator: Any) -> dict[int, Any]:
        return {}

    # Serving.

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "Values":
        target = metadata.get("target_name")
        if not isinstance(target, str) or not target:
            raise ValueError("metadata field 'target_name' must name what the model predicts")
        return cls(target)

    def predict(self, scores: np.ndarray) -> np.ndarray:
        """The runtime's values, one per row; a row whose value overflowed is a 422."""
        values = np.ascontiguousarray(scores, dtype=np.float64).reshape(-1)
        unscorable = np.flatnonzero(~np.isfinite(values)).tolist()
        if unscorable:
            problem = "has values too large for the model to score"
            raise ApiError(
                f"row {unscorable[0]}: {problem} (its prediction overflows)",
                [{"row": row, "problem": problem} for row in unscorable],
            )
        return values

    def answer(self, prediction: np.ndarray) -> dict[str, Any]:
        return {"predictions": prediction}

    def answer_schema(self) -> dict[str, dict[str, Any]]:
        return {"predictions": {"type": "array", "items": {"type": "number"}, "minItems": 1}}

    def tally(self, prediction: np.ndarray) -> Counter[str]:
        """Rows predicted (the metrics count them under the target's name: a number has no class)."""
        return Counter({self.target: len(prediction)})

    def v2_metadata(self) -> list[dict[str, Any]]:
        return [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]

    def v2_outputs(self, prediction: np.ndarray) -> dict[str, dict[str, Any]]:
        return {
            "prediction": {"name": "prediction", "shape": [len(prediction)], "datatype": "FP64", "data": prediction}
        }

    def csv_header(self) -> list[str]:
        return ["prediction"]

    def csv_cells(self, prediction: np.ndarray) -> list[list[Any]]:
        return [[round(value, 6)] for value in prediction.tolist()]

    def page_result(self, prediction: np.ndarray) -> dict[str, Any]:
        """What the page shows of one prediction, and the short form its history keeps."""
        shown = f"{float(prediction[0]):.{SHOWN_DECIMALS}f}"
        return {"value": shown, "target": self.target, "summary": shown}
