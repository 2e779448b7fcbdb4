"""One description per kind of input and output, which every face of the service reads.

An input kind (`numbers.NumberRows`, `texts.Texts`) says what one item of a request is: how it is
validated, its JSON Schema (/openapi.json), its /v2 tensor, its form field on the page and its CSV
columns. An output kind (`classes.Classes`, `values.Values`) says what the model answers: how its
raw scores become the answer, the answer's schema, its /v2 outputs and how the page and the CLI show
it, and, for training, how targets are read, checked, split and scored. `task.py` picks one of each;
nothing else in the package asks which.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data.data_loader import Dataset, Rows
from ..errors import ApiError, shown

V2_INPUT_NAME = "input-0"  # the one input tensor's name, as GET /v2/models/<name> gives it


class Inputs(Protocol):
    """What every input kind offers (see numbers.py for one); a task of your own may add a kind."""

    single: str  # the JSON key of one item: {"features": row}
    noun: str  # what an item is called in messages: "row"
    schema_name: str  # its name among the OpenAPI document's schemas
    template: str  # its macros for the page (api/templates)
    feature_names: list[str]

    @staticmethod
    def describe(data: Dataset) -> dict[str, Any]: ...
    @staticmethod
    def read_columns(path: Path, header: list[str], rows: Rows, names: list[str]) -> np.ndarray: ...
    def csv_header(self) -> list[str]: ...
    def csv_cells(self, features: np.ndarray) -> list[list[Any]]: ...
    def items_of(self, payload: Any) -> list[Any]: ...
    def validate(self, items: list[Any], max_rows: int) -> np.ndarray: ...
    def out_of_range(self, items: np.ndarray) -> Mapping[str, int]: ...
    def item_schema(self) -> dict[str, Any]: ...
    def v2_metadata(self) -> dict[str, Any]: ...
    def v2_items(self, inputs: Any) -> list[Any]: ...
    def v2_tensor_schema(self, max_rows: int) -> dict[str, Any]: ...
    def form_items(self, form: Mapping[str, str]) -> list[Any]: ...
    def history_headers(self) -> list[str]: ...
    def history_cells(self, features: np.ndarray) -> list[Any]: ...
    @staticmethod
    def in_words(detail: dict[str, Any]) -> str: ...


class Outputs(Protocol):
    """What every output kind offers (see classes.py for one)."""

    stratify: bool
    sklearn_method: str
    onnx_output: str
    onnx_tolerance: float
    output_names: tuple[str, ...]
    template: str

    @staticmethod
    def evaluate(estimator: Any, data: Dataset) -> dict[str, float]: ...
    @staticmethod
    def describe(estimator: Any) -> dict[str, Any]: ...
    @staticmethod
    def onnx_options(estimator: Any) -> dict[int, Any]: ...  # skl2onnx's options, by id() of the step
    def predict(self, scores: np.ndarray) -> Any: ...
    def answer(self, prediction: Any) -> dict[str, Any]: ...
    def answer_schema(self) -> dict[str, dict[str, Any]]: ...
    def tally(self, prediction: Any) -> Mapping[str, int]: ...
    def v2_metadata(self) -> list[dict[str, Any]]: ...
    def v2_outputs(self, prediction: Any) -> dict[str, dict[str, Any]]: ...
    def csv_header(self) -> list[str]: ...
    def csv_cells(self, prediction: Any) -> list[list[Any]]: ...
    def page_result(self, prediction: Any) -> dict[str, Any]: ...


def items_of(payload: Any, single: str, noun: str) -> list[Any]:
    """A request's items: [payload[single]], or payload["instances"], a non-empty list."""
    if not isinstance(payload, dict) or len(payload) != 1 or not {single, "instances"} & payload.keys():
        raise ApiError(
            f'the body must be a JSON object with exactly one key, "{single}" (one {noun}) '
            f'or "instances" (a list of {noun}s)'
        )
    if single in payload:
        return [payload[single]]
    items = payload["instances"]
    if not isinstance(items, list) or not items:
        raise ApiError(f'"instances" must be a non-empty list of {noun}s')
    return items


def check_batch_size(items: list[Any], noun: str, max_rows: int) -> None:
    """A batch over the limit is refused before any of its values is looked at."""
    if len(items) > max_rows:
        raise ApiError(
            f"a batch may hold at most {max_rows} {noun}s, this one has {len(items)}",
            status=413,
            code="batch_too_large",
        )


def refuse(problems: list[dict[str, Any]]) -> None:
    """Raise the 422 that lists every problem found, the first one in its message."""
    if problems:
        first = problems[0]
        where = f"row {first['row']}" + (f", feature '{first['feature']}'" if "feature" in first else "")
        raise ApiError(f"{where}: {first['problem']}", problems)


def v2_tensor(inputs: Any, shape: str) -> Any:
    """A /v2 request's one input tensor (a JSON object, its fields not yet checked); anything else is a 400."""
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise protocol_error(f'"inputs" must be a list of exactly one tensor, of shape {shape}')
    if inputs[0].get("name") != V2_INPUT_NAME:
        name = shown(inputs[0].get("name"))
        raise protocol_error(f'the input tensor is named {name}: the model\'s one input is "{V2_INPUT_NAME}"')
    return inputs[0]


def protocol_error(message: str) -> ApiError:
    """A /v2 request that does not fit the protocol or the model: the protocol's 400."""
    return ApiError(message, status=400)
