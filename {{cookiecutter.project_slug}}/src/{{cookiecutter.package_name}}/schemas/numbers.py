"""Rows of numbers, one value per named feature: a list in the model's order, or an object keyed by name.

Python's json accepts NaN and Infinity, and True is an int to Python: both would reach the model
unnoticed without these checks. Once a matrix leaves `validate` it is finite and well-shaped, which
lets the model skip its own (slower) input checks. `item_schema` says the same rules in JSON Schema,
so /openapi.json cannot drift from what `validate` accepts.
"""

import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.data_loader import Dataset, Rows, numeric_columns
from ..errors import json_type, shown
from . import check_batch_size, items_of, protocol_error, refuse, v2_tensor

# The largest magnitude a feature may have: far beyond any real measurement, and far enough below the
# float range (1.8e308) that scaling a row and weighing it cannot overflow to Infinity.
MAX_MAGNITUDE = 1e300
NUMBER_TYPES = (int, float)
NUMBER_TYPE_SET = frozenset(NUMBER_TYPES)
# The protocol's numeric datatypes: integers of these bounds, floats of this largest magnitude (FP64's is the
# features' own, MAX_MAGNITUDE, checked with the values). A value its datatype cannot hold is a 400.
V2_INTEGER_BOUNDS = {
    f"{sign}INT{bits}": (0, 2**bits - 1) if sign else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    for sign in ("", "U")
    for bits in (8, 16, 32, 64)
}
V2_FLOAT_MAXIMA = {"FP16": float(np.finfo(np.float16).max), "FP32": float(np.finfo(np.float32).max), "FP64": None}
V2_DATATYPES = (*V2_FLOAT_MAXIMA, *V2_INTEGER_BOUNDS)


class NumberRows:
    """The model's features, by name, with the range each had in training."""

    single, noun, schema_name = "features", "row", "Row"
    template = "numbers.html"  # the page's form fields and history cells (api/templates)

    def __init__(self, feature_names: Sequence[str], feature_ranges: Mapping[str, Mapping[str, float]]):
        self.feature_names = list(feature_names)
        self.feature_ranges = dict(feature_ranges)
        self._lows = np.array([feature_ranges[name]["min"] for name in self.feature_names], dtype=float)
        self._highs = np.array([feature_ranges[name]["max"] for name in self.feature_names], dtype=float)

    # Training: what the data says about the inputs, and how a CSV holds them.

    @staticmethod
    def describe(data: Dataset) -> dict[str, Any]:
        """The metadata of the inputs: each feature's name and its range in training (shown on the page)."""
        lows, highs = data.features.min(axis=0).tolist(), data.features.max(axis=0).tolist()
        return {
            "feature_names": list(data.feature_names),
            "feature_ranges": {
                name: {"min": low, "max": high} for name, low, high in zip(data.feature_names, lows, highs, strict=True)
            },
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], settings: Mapping[str, Any]) -> "NumberRows":
        """The inputs of a saved model; ValueError names what its metadata lacks."""
        if settings:
            raise ValueError(f"rows of numbers take no input settings, not {', '.join(settings)}")
        names, ranges = metadata.get("feature_names"), metadata.get("feature_ranges")
        if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
            raise ValueError("metadata field 'feature_names' must be a non-empty list of strings")
        if not isinstance(ranges, dict) or set(ranges) != set(names) or not all(map(_is_range, ranges.values())):
            raise ValueError("metadata field 'feature_ranges' must give a range for every feature")
        return cls(names, ranges)

    @staticmethod
    def read_columns(path: Path, header: list[str], rows: Rows, names: list[str]) -> np.ndarray:
        return numeric_columns(path, header, rows, names)

    def csv_header(self) -> list[str]:
        return list(self.feature_names)

    def csv_cells(self, features: np.ndarray) -> list[list[Any]]:
        cells: list[list[Any]] = features.tolist()
        return cells

    # Validation, and the same rules in JSON Schema.

    def items_of(self, payload: Any) -> list[Any]:
        """{"features": row} or {"instances": [row, ...]}: the rows, unchecked."""
        return items_of(payload, self.single, self.noun)

    def out_of_range(self, rows: np.ndarray) -> dict[str, int]:
        """How many of the rows' values fell outside the range their feature had in training, by feature (only
        those with any): the rows the model knows least about, a sign the data has moved."""
        outside = (rows < self._lows) | (rows > self._highs)
        if not outside.any():  # the usual case, at half the cost of counting (4 µs a row here)
            return {}
        counts = outside.sum(axis=0)
        return {self.feature_names[index]: int(counts[index]) for index in np.flatnonzero(counts)}

    def validate(self, rows: list[Any], max_rows: int) -> np.ndarray:
        """The rows as a finite float matrix, or a 422 naming every row and feature that is wrong."""
        check_batch_size(rows, self.noun, max_rows)
        matrix = _plain_matrix(rows, len(self.feature_names))
        if matrix is not None:
            return matrix
        problems: list[dict[str, Any]] = []
        values = [_row_values(row, index, self.feature_names, problems) for index, row in enumerate(rows)]
        refuse(problems)
        return np.array(values, dtype=np.float64)

    def item_schema(self) -> dict[str, Any]:
        number = {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}
        width = len(self.feature_names)
        return {
            "oneOf": [
                {"type": "array", "items": number, "minItems": width, "maxItems": width},
                {
                    "type": "object",
                    "properties": dict.fromkeys(self.feature_names, number),
                    "required": list(self.feature_names),
                    "additionalProperties": False,
                },
            ],
            "description": "One row: the feature values in the model's order, or keyed by feature name.",
        }

    # The Open Inference Protocol's view: one FP64 tensor of shape [rows, features].

    def v2_metadata(self) -> dict[str, Any]:
        return {"datatype": "FP64", "shape": [-1, len(self.feature_names)]}

    def v2_items(self, inputs: Any) -> list[Any]:
        """The one input tensor as a list of rows: nested data as sent, flat (row-major) data cut by its shape.

        Only the tensor's framing is checked here; its values are left to `validate`."""
        width = len(self.feature_names)
        tensor = v2_tensor(inputs, f"[rows, {width}]")
        datatype, shape, data = tensor.get("datatype"), tensor.get("shape"), tensor.get("data")
        if datatype not in V2_DATATYPES:
            raise protocol_error(
                f"unsupported datatype {shown(datatype)}: the model takes numbers ({', '.join(V2_DATATYPES)})"
            )
        fits = isinstance(shape, list) and [type(size) for size in shape] == [int, int] and shape[0] > 0
        if not fits or shape[1] != width:
            raise protocol_error(
                f"shape {shown(shape)} does not fit the model's input: it must be [rows, {width}], rows at least 1"
            )
        if not isinstance(data, list):
            raise protocol_error('"data" must be a list, nested by the shape or flat in row-major order')
        rows, columns = shape
        if data and type(data[0]) is list:
            if len(data) != rows:
                raise protocol_error(f"data holds {len(data)} rows, its shape {shape} says {rows}")
            values: Iterable[Any] = itertools.chain.from_iterable(row for row in data if type(row) is list)
        elif len(data) != rows * columns:
            raise protocol_error(f"data holds {len(data)} values, its shape {shape} needs {rows * columns}")
        else:
            values, data = data, [data[start : start + columns] for start in range(0, len(data), columns)]
        if datatype != "FP64":
            _check_datatype(values, datatype)
        return data

    def v2_tensor_schema(self, max_rows: int) -> dict[str, Any]:
        """JSON Schema cannot tie the length of `data` to `shape` (rows lists of width numbers, or
        rows * width numbers flat), nor its values to `datatype`'s bounds: a mismatch is answered 400."""
        width = len(self.feature_names)
        number = {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}
        row = {"type": "array", "items": number, "minItems": width, "maxItems": width}
        return {
            "datatype": {"enum": list(V2_DATATYPES)},
            "shape": {
                "type": "array",
                "prefixItems": [{"type": "integer", "minimum": 1, "maximum": max_rows}, {"const": width}],
                "minItems": 2,
                "maxItems": 2,
            },
            "data": {
                "oneOf": [
                    {"type": "array", "items": number, "minItems": 1},
                    {"type": "array", "items": row, "minItems": 1},
                ]
            },
        }

    # The page: one field per feature.

    def form_items(self, form: Mapping[str, str]) -> list[Any]:
        """The form as the API's one {name: value} row. Text that is a number becomes one, other text stays
        text for validation to name; a blank field is left out, so validation names it missing."""
        row: dict[str, Any] = {}
        for name in self.feature_names:
            text = form.get(name, "").strip()
            if text:
                try:
                    row[name] = float(text)
                except ValueError:
                    row[name] = text
        return [row]

    def history_headers(self) -> list[str]:
        return list(self.feature_names)

    def history_cells(self, features: np.ndarray) -> list[Any]:
        cells: list[Any] = features[0].tolist()
        return cells

    @staticmethod
    def in_words(detail: dict[str, Any]) -> str:
        """One problem as a person filling the form would put it: by feature, without the API's row numbers."""
        if detail.get("missing"):
            return f"no value for {', '.join(detail['missing'])}"
        if "feature" in detail:
            return f"{detail['feature']}: {detail['problem']}"
        problem: str = detail["problem"]
        return problem


def _is_range(seen: Any) -> bool:
    return isinstance(seen, dict) and all(
        isinstance(seen.get(end), int | float) and not isinstance(seen.get(end), bool) for end in ("min", "max")
    )


def _plain_matrix(rows: list[Any], width: int) -> np.ndarray | None:
    """The common case, checked in a few C-speed passes: lists of `width` ints and floats, all within MAX_MAGNITUDE.

    None sends the rows through the slow path, which names every problem. The values are flattened
    first: NumPy converts one flat list three times faster than a list of rows."""
    if not all(type(row) is list and len(row) == width for row in rows):
        return None
    values = list(itertools.chain.from_iterable(rows))
    if not set(map(type, values)) <= NUMBER_TYPE_SET:
        return None
    try:
        matrix = np.array(values, dtype=np.float64).reshape(len(rows), width)
    except OverflowError:
        return None
    return matrix if (np.abs(matrix) <= MAX_MAGNITUDE).all() else None


def _row_values(row: Any, index: int, names: Sequence[str], problems: list[dict[str, Any]]) -> list[Any]:
    if isinstance(row, dict):
        unknown = [name for name in row if name not in names]
        missing = [name for name in names if name not in row]
        if unknown or missing:
            problem = "feature names do not match the model's"
            problems.append({"row": index, "problem": problem, "unknown": unknown, "missing": missing})
            return []
        row = [row[name] for name in names]
    elif not isinstance(row, list):
        problem = f"must be a list of {len(names)} numbers or an object keyed by feature name"
        problems.append({"row": index, "problem": problem})
        return []
    elif len(row) != len(names):
        problems.append({"row": index, "problem": f"has {len(row)} values, the model takes {len(names)}"})
        return []
    for name, value in zip(names, row, strict=True):
        if wrong := _value_problem(value):
            problems.append({"row": index, "feature": name, "problem": wrong})
    return list(row)


def _value_problem(value: Any) -> str | None:
    if type(value) not in NUMBER_TYPES:
        return f"must be a number, not {json_type(value)}"
    if abs(value) <= MAX_MAGNITUDE:  # False for NaN; exact for integers of any size
        return None
    return f"must be a finite number of magnitude at most {MAX_MAGNITUDE:g} (not NaN or Infinity)"


def _check_datatype(values: Any, datatype: str) -> None:
    """Every number sent is one the tensor's datatype holds: for an integer type, an integer within its
    bounds; for FP16 and FP32, a number within their largest magnitude. Other values are left to `validate`."""
    if datatype in V2_INTEGER_BOUNDS:
        low, high = V2_INTEGER_BOUNDS[datatype]
        for value in values:
            if type(value) in NUMBER_TYPE_SET and not (type(value) is int and low <= value <= high):
                raise protocol_error(f"{shown(value)} does not fit {datatype}: an integer from {low} to {high}")
        return
    largest = V2_FLOAT_MAXIMA[datatype]
    for value in values:
        if type(value) in NUMBER_TYPE_SET and abs(value) > largest:  # NaN is left to validate
            raise protocol_error(f"{shown(value)} does not fit {datatype}: magnitude at most {largest:g}")
