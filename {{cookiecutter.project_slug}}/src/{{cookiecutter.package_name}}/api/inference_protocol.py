"""The Open Inference Protocol (KServe v2, Seldon MLServer) over REST under /v2, so v2 clients work unchanged.

A v2 request carries one tensor. The task's input kind cuts it into the items that /predict takes,
then the same `serving.predict` validates and scores them, so the two APIs accept and answer exactly
alike; the output kind names the output tensors. Errors here take the protocol's shape,
{"error": "<message>"}; the rest of the API keeps its own.
"""

from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from ..errors import ApiError, shown
from ..models.model import LoadedModel
from ..schemas import V2_INPUT_NAME, protocol_error
from .errors import headers_of
from .serving import predict, ready_model

inference_protocol = Blueprint("inference_protocol", __name__, url_prefix="/v2")


@inference_protocol.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[dict[str, str], int]:
    """The protocol names only 400 for bad input: validation's 422 becomes 400; 404, 413 and 503 stay."""
    return {"error": error.message}, 400 if error.status == 422 else error.status


@inference_protocol.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[dict[str, str], int, list[tuple[str, str]]]:
    return {"error": error.description or error.name}, error.code or 500, headers_of(error)


def _is_ready() -> bool:
    try:
        ready_model()
    except ApiError:
        return False
    return True


def _named_model(name: str, version: str | None) -> LoadedModel:
    """The model, if `name` and (when the path gives one) `version` are its own; a 404 otherwise."""
    model = ready_model()
    if name != model.name:
        raise ApiError(f"model '{name}' not found", status=404)
    if version is not None and version != model.version:
        raise ApiError(f"model '{name}' has no version '{version}'", status=404)
    return model


@inference_protocol.get("/health/live")
def server_live() -> dict[str, bool]:
    return {"live": True}


@inference_protocol.get("/health/ready")
def server_ready() -> tuple[dict[str, bool], int]:
    ready = _is_ready()
    return {"ready": ready}, 200 if ready else 503


@inference_protocol.get("")
def server_metadata() -> dict[str, Any]:
    """Named by the configured model (the project slug by default), so it answers even before a model loads."""
    model = current_app.config["SERVICE_CONFIG"].model
    return {"name": model.name, "version": model.version, "extensions": []}


@inference_protocol.get("/models/<name>")
@inference_protocol.get("/models/<name>/versions/<version>")
def model_metadata(name: str, version: str | None = None) -> dict[str, Any]:
    model = _named_model(name, version)
    return {
        "name": name,
        "versions": [model.version],
        "platform": model.runtime,
        "inputs": [{"name": V2_INPUT_NAME, **model.inputs.v2_metadata()}],
        "outputs": model.outputs.v2_metadata(),
    }


@inference_protocol.get("/models/<name>/ready")
@inference_protocol.get("/models/<name>/versions/<version>/ready")
def model_ready(name: str, version: str | None = None) -> ResponseReturnValue:
    if not _is_ready():
        return {"name": name, "ready": False}, 503
    _named_model(name, version)
    return {"name": name, "ready": True}


@inference_protocol.post("/models/<name>/infer")
@inference_protocol.post("/models/<name>/versions/<version>/infer")
def infer(name: str, version: str | None = None) -> dict[str, Any]:
    """Score one input tensor (its shape is the input kind's: GET /v2/models/<name> says it); the requested
    outputs, or all of them."""
    model = _named_model(name, version)
    if "Inference-Header-Content-Length" in request.headers:  # what KServe's clients send with binary_data=True
        raise protocol_error("the binary tensor data extension is not supported: send the tensors' data as JSON")
    # force: the body is JSON by the protocol, and not every v2 client labels it so.
    body = request.get_json(force=True)
    if not isinstance(body, dict):
        raise protocol_error('the body must be a JSON object with an "inputs" list')
    if not isinstance(body.get("id", ""), str):
        raise protocol_error(f'"id" must be a string, not {shown(body["id"])}')
    wanted = _output_names(body.get("outputs"), model.outputs.output_names)
    model, _features, prediction = predict(lambda inputs: inputs.v2_items(body.get("inputs")))
    outputs = model.outputs.v2_outputs(prediction)
    answer: dict[str, Any] = {"model_name": name, "model_version": model.version}
    if "id" in body:
        answer["id"] = body["id"]
    answer["outputs"] = [outputs[output] for output in wanted]
    return answer


def _output_names(requested: Any, names: tuple[str, ...]) -> list[str]:
    """The outputs a request names, or all when it names none (as the protocol says)."""
    if requested is None:
        return list(names)
    if not isinstance(requested, list) or not all(isinstance(output, dict) for output in requested):
        raise protocol_error('"outputs" must be a list of {"name": ...} objects')
    asked = [output.get("name") for output in requested]
    unknown = [name for name in asked if name not in names]
    if unknown:
        raise protocol_error(f"unknown output {shown(unknown[0])}: the model's outputs are {', '.join(names)}")
    return list(dict.fromkeys(asked)) or list(names)
