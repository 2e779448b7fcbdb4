"""The Open Inference Protocol (KServe v2, Seldon MLServer) over REST under /v2, so v2 clients work unchanged.
{%- if cookiecutter.example_task == "text" %}

A v2 request carries a tensor of texts (BYTES, as the protocol names strings). Its texts pass through the same
`texts_from_payload` and `predict` as /predict's, so the two APIs accept and answer exactly alike. Errors here
take the protocol's shape, {"error": "<message>"}; the rest of the API keeps its own.
{%- else %}

A v2 request carries a tensor. It is cut into the rows that /predict takes, then passes through the same
`features_from_payload` and `predict`, so the two APIs accept and answer exactly alike. Errors here take
the protocol's shape, {"error": "<message>"}; the rest of the API keeps its own.
{%- endif %}
"""

from typing import Any

from flask import Blueprint, current_app, request
from werkzeug.exceptions import HTTPException

from ..models.classifier import LoadedModel, UnscorableRows, predict
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
from .app import ready_model
{%- if cookiecutter.example_task == "text" %}
from .validation import ApiError, texts_from_payload

TEXT_DATATYPE = "BYTES"
{%- else %}
from .validation import ApiError, features_from_payload

NUMERIC_DATATYPES = ("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
{%- endif %}
INPUT_NAME = "input-0"
OUTPUT_NAMES = ("label", "probabilities")

inference_protocol = Blueprint("inference_protocol", __name__, url_prefix="/v2")


@inference_protocol.errorhandler(ApiError)
def _api_error(error: ApiError):
    """The protocol names only 400 for bad input: validation's 422 becomes 400; 404, 413 and 503 stay."""
    return {"error": error.message}, 400 if error.status == 422 else error.status


@inference_protocol.errorhandler(UnscorableRows)
def _unscorable(error: UnscorableRows):
    return {"error": str(error)}, 400


@inference_protocol.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return {"error": error.description or error.name}, error.code or 500


def _bad(message: str) -> ApiError:
    return ApiError(message, status=400)


def _is_ready() -> bool:
    try:
        ready_model()
    except ApiError:
        return False
    return True


def _named_model(name: str, version: str | None) -> LoadedModel:
    """The model, if `name` and (when the path gives one) `version` are its own; a 404 otherwise."""
    model = ready_model()
    if name != model.metadata["name"]:
        raise ApiError(f"model '{name}' not found", status=404)
    if version is not None and version != model.metadata["version"]:
        raise ApiError(f"model '{name}' has no version '{version}'", status=404)
    return model


@inference_protocol.get("/health/live")
def server_live():
    return {"live": True}


@inference_protocol.get("/health/ready")
def server_ready():
    ready = _is_ready()
    return {"ready": ready}, 200 if ready else 503


@inference_protocol.get("")
def server_metadata():
    """Named by the configured model (the project slug by default), so it answers even before a model loads."""
    model = current_app.config["SERVICE_CONFIG"].model
    return {"name": model.name, "version": model.version, "extensions": []}


@inference_protocol.get("/models/<name>")
@inference_protocol.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None):
    model = _named_model(name, version)
    return {
        "name": name,
        "versions": [model.metadata["version"]],
        "platform": model.runtime,
{%- if cookiecutter.example_task == "text" %}
        "inputs": [{"name": INPUT_NAME, "datatype": TEXT_DATATYPE, "shape": [-1]}],
{%- else %}
        "inputs": [{"name": INPUT_NAME, "datatype": "FP64", "shape": [-1, len(model.feature_names)]}],
{%- endif %}
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.class_labels)]},
        ],
    }


@inference_protocol.get("/models/<name>/ready")
@inference_protocol.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None):
    if not _is_ready():
        return {"name": name, "ready": False}, 503
    _named_model(name, version)
    return {"name": name, "ready": True}


@inference_protocol.post("/models/<name>/infer")
@inference_protocol.post("/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None = None):
{%- if cookiecutter.example_task == "text" %}
    """Score one tensor of texts, shape [rows] or [rows, 1]; `class_labels` order is the probabilities' columns."""
{%- else %}
    """Score one input tensor of shape [rows, features]; `class_labels` order is the probabilities' columns."""
{%- endif %}
    model = _named_model(name, version)
    # force: the body is JSON by the protocol, and not every v2 client labels it so.
    body = request.get_json(force=True)
    if not isinstance(body, dict):
        raise _bad('the body must be a JSON object with an "inputs" list')
    wanted = _output_names(body.get("outputs"))
{%- if cookiecutter.example_task == "text" %}
    limits = current_app.config
    batch = {"instances": _texts(body.get("inputs"))}
    texts = texts_from_payload(batch, limits["MAX_BATCH_ROWS"], limits["MAX_TEXT_CHARS"])
    labels, probabilities = predict(model, texts)
{%- else %}
    rows = _rows(body.get("inputs"), len(model.feature_names))
    features = features_from_payload({"instances": rows}, model.feature_names, current_app.config["MAX_BATCH_ROWS"])
    labels, probabilities = predict(model, features)
{%- endif %}
{%- if cookiecutter.enable_metrics %}
    metrics.count_predictions(model.metadata["version"], labels)
{%- endif %}
    outputs = {
        "label": {"name": "label", "shape": [len(labels)], "datatype": "BYTES", "data": labels},
        "probabilities": {
            "name": "probabilities",
            "shape": [len(labels), len(model.class_labels)],
            "datatype": "FP64",
            "data": probabilities.ravel(),
        },
    }
    answer = {"model_name": name, "model_version": model.metadata["version"]}
    if "id" in body:
        answer["id"] = body["id"]
    answer["outputs"] = [outputs[output] for output in wanted]
    return answer


def _output_names(requested: Any) -> list[str]:
    """The outputs a request names, or all when it names none (as the protocol says)."""
    if requested is None:
        return list(OUTPUT_NAMES)
    if not isinstance(requested, list) or not all(isinstance(output, dict) for output in requested):
        raise _bad('"outputs" must be a list of {"name": ...} objects')
    names = [output.get("name") for output in requested]
    unknown = [name for name in names if name not in OUTPUT_NAMES]
    if unknown:
        raise _bad(f"unknown output {unknown[0]!r}: the model's outputs are {', '.join(OUTPUT_NAMES)}")
    return list(dict.fromkeys(names)) or list(OUTPUT_NAMES)


def _tensor(inputs: Any, shape: str) -> dict:
    """The request's one input tensor; anything else is a 400."""
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise _bad(f'"inputs" must be a list of exactly one tensor, of shape {shape}')
    return inputs[0]
{%- if cookiecutter.example_task == "text" %}


def _texts(inputs: Any) -> list:
    """The one input tensor's items: BYTES of shape [rows] or [rows, 1], data flat or nested by the shape.

    Only the tensor's framing is checked here; its values are left to `texts_from_payload`."""
    tensor = _tensor(inputs, "[rows] or [rows, 1]")
    datatype, shape, data = tensor.get("datatype"), tensor.get("shape"), tensor.get("data")
    if datatype != TEXT_DATATYPE:
        raise _bad(f"unsupported datatype {datatype!r}: the model takes text ({TEXT_DATATYPE})")
    fits = isinstance(shape, list) and [type(size) for size in shape] in ([int], [int, int]) and shape[0] > 0
    if not fits or shape[1:] not in ([], [1]):
        raise _bad(f"shape {shape!r} does not fit the model's input: it must be [rows] or [rows, 1], rows at least 1")
    if not isinstance(data, list):
        raise _bad('"data" must be a list of strings, flat or nested by the shape')
    if len(data) != shape[0]:
        raise _bad(f"data holds {len(data)} items, its shape {shape} says {shape[0]}")
    nested = len(shape) == 2 and all(type(item) is list and len(item) == 1 for item in data)
    return [item[0] for item in data] if nested else data
{%- else %}


def _rows(inputs: Any, width: int) -> list:
    """The one input tensor as a list of rows: nested data as sent, flat (row-major) data cut by its shape.

    Only the tensor's framing is checked here; its values are left to `features_from_payload`."""
    tensor = _tensor(inputs, f"[rows, {width}]")
    datatype, shape, data = tensor.get("datatype"), tensor.get("shape"), tensor.get("data")
    if datatype not in NUMERIC_DATATYPES:
        raise _bad(f"unsupported datatype {datatype!r}: the model takes numbers ({', '.join(NUMERIC_DATATYPES)})")
    fits = isinstance(shape, list) and [type(size) for size in shape] == [int, int] and shape[0] > 0
    if not fits or shape[1] != width:
        raise _bad(f"shape {shape!r} does not fit the model's input: it must be [rows, {width}], rows at least 1")
    if not isinstance(data, list):
        raise _bad('"data" must be a list, nested by the shape or flat in row-major order')
    rows, columns = shape
    if data and type(data[0]) is list:
        if len(data) != rows:
            raise _bad(f"data holds {len(data)} rows, its shape {shape} says {rows}")
        return data
    if len(data) != rows * columns:
        raise _bad(f"data holds {len(data)} values, its shape {shape} needs {rows * columns}")
    return [data[start : start + columns] for start in range(0, len(data), columns)]
{%- endif %}
