"""Texts, one per item: the input of a model that reads text.

The model would turn a number, a list or null into a string, or score an empty text as if it meant
something, and a huge text costs the worker time on every request: each text must be a non-empty
string of at most `max_chars` characters (config: inputs.max_chars). `item_schema` says the same
rules in JSON Schema, so /openapi.json cannot drift from what `validate` accepts.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..data.data_loader import DataError, Dataset, Rows, filled_column
from ..errors import json_type, shown
from . import check_batch_size, items_of, protocol_error, refuse, v2_tensor

V2_DATATYPE = "BYTES"  # the protocol's name for strings
# A text must have one character that shows: not whitespace, not a control character, not a
# zero-width or direction mark. One pattern for JSON Schema (ECMA regex) and Python's re alike.
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\xad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
EMPTY = "must not be empty or only whitespace and invisible characters"
_has_visible = re.compile(VISIBLE)
# The page's history keeps only a text's start: all of the session must fit a cookie (about 4 KB).
SNIPPET_CHARS = 80


class Texts:
    """One text column, named in the metadata; `max_chars` from the config."""

    single, noun, schema_name = "text", "text", "Text"
    template = "texts.html"  # the page's form field and history cell (api/templates)

    def __init__(self, column: str, max_chars: int, lengths: tuple[int, int]):
        self.feature_names = [column]
        self.max_chars = max_chars
        self.lengths = lengths  # in training: the shortest and the longest text

    # Training: what the data says about the inputs, and how a CSV holds them.

    @staticmethod
    def describe(data: Dataset) -> dict[str, Any]:
        """The text column's name, and the lengths (in characters) of the texts the model learnt from."""
        lengths = [len(text) for text in data.features]
        return {"feature_names": list(data.feature_names), "text_lengths": {"min": min(lengths), "max": max(lengths)}}

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], settings: Mapping[str, Any]) -> "Texts":
        """The inputs of a saved model; ValueError names what its metadata or the settings lack."""
        names = metadata.get("feature_names")
        if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
            raise ValueError("metadata field 'feature_names' must name the one text column")
        unknown = set(settings) - {"max_chars"}
        if unknown:
            raise ValueError(f"unknown input setting(s) {', '.join(sorted(unknown))} (texts take: max_chars)")
        max_chars = settings.get("max_chars")
        if type(max_chars) is not int or max_chars < 1:
            raise ValueError("input setting 'max_chars' must be a positive integer")
        lengths = metadata.get("text_lengths")
        if not (isinstance(lengths, dict) and all(type(lengths.get(end)) is int for end in ("min", "max"))):
            raise ValueError("metadata field 'text_lengths' must give the min and max length of the training texts")
        return cls(names[0], max_chars, (lengths["min"], lengths["max"]))

    @staticmethod
    def read_columns(path: Path, header: list[str], rows: Rows, names: list[str]) -> np.ndarray:
        """The one text column, every row filled, as an array of strings."""
        if len(names) != 1:
            raise DataError(f"{path}: a model of texts reads exactly one text column, not {len(names)}: {names}")
        return np.array(filled_column(path, header, rows, names[0], "text", "text"), dtype=object)

    def csv_header(self) -> list[str]:
        return list(self.feature_names)

    def csv_cells(self, texts: np.ndarray) -> list[list[Any]]:
        return [[text] for text in texts.tolist()]

    # Validation, and the same rules in JSON Schema.

    def items_of(self, payload: Any) -> list[Any]:
        """{"text": "..."} or {"instances": ["...", ...]}: the texts, unchecked."""
        return items_of(payload, self.single, self.noun)

    def validate(self, texts: list[Any], max_rows: int) -> np.ndarray:
        """The texts as an array, or a 422 naming every row that is not a non-empty string within the limit."""
        check_batch_size(texts, self.noun, max_rows)
        problems = []
        for index, text in enumerate(texts):
            problem = self._problem(text)
            if problem:
                problems.append({"row": index, "problem": problem})
        refuse(problems)
        return np.array(texts, dtype=object)

    def out_of_range(self, texts: np.ndarray) -> dict[str, int]:
        """How many texts were shorter or longer than any the model learnt from ("text_length"): a length
        never seen in training, like a number outside its feature's range, is where the model knows least."""
        shortest, longest = self.lengths
        outside = sum(not shortest <= len(text) <= longest for text in texts)
        return {"text_length": outside} if outside else {}

    def _problem(self, text: Any) -> str | None:
        if type(text) is not str:
            return f"must be a string, not {json_type(text)}"
        if not _has_visible.search(text):
            return EMPTY
        if len(text) > self.max_chars:
            return f"has {len(text)} characters, more than the limit of {self.max_chars}"
        return None

    def item_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_chars,
            "pattern": VISIBLE,
            "description": "One text: a string with a visible character (not only whitespace, controls or zero-width).",
        }

    # The Open Inference Protocol's view: one BYTES tensor of shape [rows] or [rows, 1].

    def v2_metadata(self) -> dict[str, Any]:
        return {"datatype": V2_DATATYPE, "shape": [-1]}

    def v2_items(self, inputs: Any) -> list[Any]:
        """The one input tensor's items: BYTES of shape [rows] or [rows, 1], data flat or nested by the shape.

        Only the tensor's framing is checked here; its values are left to `validate`."""
        tensor = v2_tensor(inputs, "[rows] or [rows, 1]")
        datatype, shape, data = tensor.get("datatype"), tensor.get("shape"), tensor.get("data")
        if datatype != V2_DATATYPE:
            raise protocol_error(f"unsupported datatype {shown(datatype)}: the model takes text ({V2_DATATYPE})")
        fits = isinstance(shape, list) and [type(size) for size in shape] in ([int], [int, int]) and shape[0] > 0
        if not fits or shape[1:] not in ([], [1]):
            raise protocol_error(
                f"shape {shown(shape)} does not fit the model's input: it must be [rows] or [rows, 1], rows at least 1"
            )
        if not isinstance(data, list):
            raise protocol_error('"data" must be a list of strings, flat or nested by the shape')
        if len(data) != shape[0]:
            raise protocol_error(f"data holds {len(data)} items, its shape {shape} says {shape[0]}")
        nested = len(shape) == 2 and all(type(item) is list and len(item) == 1 for item in data)
        return [item[0] for item in data] if nested else data

    def v2_tensor_schema(self, max_rows: int) -> dict[str, Any]:
        """JSON Schema cannot tie the length of `data` to `shape`: a mismatch is answered 400."""
        text = {"$ref": f"#/components/schemas/{self.schema_name}"}
        one_text = {"type": "array", "prefixItems": [text], "minItems": 1, "maxItems": 1}
        return {
            "datatype": {"const": V2_DATATYPE},
            "shape": {
                "type": "array",
                "prefixItems": [{"type": "integer", "minimum": 1, "maximum": max_rows}, {"const": 1}],
                "minItems": 1,
                "maxItems": 2,
            },
            "data": {
                "oneOf": [
                    {"type": "array", "items": text, "minItems": 1},
                    {"type": "array", "items": one_text, "minItems": 1},
                ]
            },
        }

    # The page: one textarea.

    def form_items(self, form: Mapping[str, str]) -> list[Any]:
        """The form's text. A browser sends a textarea's line breaks as CR LF: made LF again, each counts
        as one character, as typed."""
        return [form.get("text", "").replace("\r\n", "\n")]

    def history_headers(self) -> list[str]:
        return ["text"]

    def history_cells(self, texts: np.ndarray) -> list[Any]:
        """The text's start: each run of whitespace made one space, cut to SNIPPET_CHARS (the last one … if cut)."""
        words = " ".join(texts[0].split())
        return [words if len(words) <= SNIPPET_CHARS else words[: SNIPPET_CHARS - 1] + "…"]

    @staticmethod
    def in_words(detail: dict[str, Any]) -> str:
        """One problem as a person filling the form would put it: about their text, without the API's row number."""
        return f"your text {detail['problem']}" if "row" in detail else detail["problem"]
