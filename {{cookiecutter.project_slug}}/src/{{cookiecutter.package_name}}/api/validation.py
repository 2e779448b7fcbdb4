{% if cookiecutter.example_task == "text" -%}
"""Turn a prediction request's JSON into the texts the model reads, or say exactly what is wrong with it.

The model would turn a number, a list or null into a string, or score an empty text as if it meant
something, and a huge text costs the worker time on every request: each text must be a non-empty
string of at most server.max_text_chars characters.
"""

from collections.abc import Sequence
from typing import Any
{%- else -%}
"""Turn a prediction request's JSON into a NumPy matrix, or say exactly what is wrong with it.

Python's json accepts NaN and Infinity, and True is an int to Python: both would reach the
model unnoticed without these checks. Once a matrix leaves here it is finite and well-shaped,
which lets the model skip its own (slower) input checks.
"""

import itertools
from collections.abc import Sequence
from typing import Any
{%- endif %}

import numpy as np

MAX_DETAILS = 20
{%- if cookiecutter.example_task != "text" %}
# The largest magnitude a feature may have: far beyond any real measurement, and far enough below the
# float range (1.8e308) that scaling a row and weighing it cannot overflow to Infinity.
MAX_MAGNITUDE = 1e300
NUMBER_TYPES = (int, float)
NUMBER_TYPE_SET = frozenset(NUMBER_TYPES)
{%- endif %}


class ApiError(Exception):
    """An error the client is told about: its HTTP status and the fields of the JSON error body."""

    def __init__(self, message: str, details: Sequence[dict] = (), status: int = 422, code: str = "invalid_input"):
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.status = status
        self.code = code


def _batch(payload: Any, single: str, noun: str, max_rows: int) -> list:
    """The request's items: [payload[single]], or payload["instances"], a non-empty list of at most max_rows."""
    if not isinstance(payload, dict) or len(payload) != 1 or not {single, "instances"} & payload.keys():
        raise ApiError(
            f'the body must be a JSON object with exactly one key, "{single}" (one {noun}) '
            f'or "instances" (a list of {noun}s)'
        )
    if single in payload:
        return [payload[single]]
    rows = payload["instances"]
    if not isinstance(rows, list) or not rows:
        raise ApiError(f'"instances" must be a non-empty list of {noun}s')
    if len(rows) > max_rows:
        raise ApiError(
            f"a batch may hold at most {max_rows} {noun}s, this one has {len(rows)}",
            status=413,
            code="batch_too_large",
        )
    return rows
{%- if cookiecutter.example_task == "text" %}


def texts_from_payload(payload: Any, max_rows: int, max_chars: int) -> np.ndarray:
    """Accept {"text": "..."} or {"instances": ["...", ...]}; every text a non-empty string of at most max_chars."""
    texts = _batch(payload, "text", "text", max_rows)
    problems = []
    for index, text in enumerate(texts):
        problem = _text_problem(text, max_chars)
        if problem:
            problems.append({"row": index, "problem": problem})
    if problems:
        raise ApiError(f"row {problems[0]['row']}: {problems[0]['problem']}", problems[:MAX_DETAILS])
    return np.array(texts, dtype=object)


def _text_problem(text: Any, max_chars: int) -> str | None:
    if type(text) is not str:
        return f"must be a string, not {_json_type(text)}"
    if not text.strip():
        return "must not be empty or only whitespace"
    if len(text) > max_chars:
        return f"has {len(text)} characters, more than the limit of {max_chars}"
    return None
{%- else %}


def features_from_payload(payload: Any, feature_names: Sequence[str], max_rows: int) -> np.ndarray:
    """Accept {"features": row} or {"instances": [row, ...]}, a row being a list or a name->value object."""
    rows = _batch(payload, "features", "row", max_rows)
    matrix = _plain_matrix(rows, len(feature_names))
    if matrix is not None:
        return matrix
    problems: list[dict] = []
    matrix = [_row_values(row, index, feature_names, problems) for index, row in enumerate(rows)]
    if problems:
        first = problems[0]
        where = f"row {first['row']}" + (f", feature '{first['feature']}'" if "feature" in first else "")
        raise ApiError(f"{where}: {first['problem']}", problems[:MAX_DETAILS])
    return np.array(matrix, dtype=np.float64)


def _plain_matrix(rows: list, width: int) -> np.ndarray | None:
    """The common case, checked in a few C-speed passes: lists of `width` ints and floats, all within MAX_MAGNITUDE.

    None sends the rows through the slow path below, which names every problem. The values are
    flattened first: NumPy converts one flat list three times faster than a list of rows."""
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


def _row_values(row: Any, index: int, names: Sequence[str], problems: list[dict]) -> list:
    if isinstance(row, dict):
        unknown = [name for name in row if name not in names]
        missing = [name for name in names if name not in row]
        if unknown or missing:
            problems.append(
                {
                    "row": index,
                    "problem": "feature names do not match the model's",
                    "unknown": unknown,
                    "missing": missing,
                }
            )
            return []
        row = [row[name] for name in names]
    elif not isinstance(row, list):
        problems.append(
            {
                "row": index,
                "problem": f"must be a list of {len(names)} numbers or an object keyed by feature name",
            }
        )
        return []
    elif len(row) != len(names):
        problems.append({"row": index, "problem": f"has {len(row)} values, the model takes {len(names)}"})
        return []
    for name, value in zip(names, row, strict=True):
        problem = _value_problem(value)
        if problem:
            problems.append({"row": index, "feature": name, "problem": problem})
    return row


def _value_problem(value: Any) -> str | None:
    if type(value) not in NUMBER_TYPES:
        return f"must be a number, not {_json_type(value)}"
    if abs(value) <= MAX_MAGNITUDE:  # False for NaN; exact for integers of any size
        return None
    return f"must be a finite number of magnitude at most {MAX_MAGNITUDE:g} (not NaN or Infinity)"
{%- endif %}


def _json_type(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
