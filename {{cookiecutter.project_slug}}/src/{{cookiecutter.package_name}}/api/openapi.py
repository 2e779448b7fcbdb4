"""GET /openapi.json: an OpenAPI 3.1 document of every API route, built from the app itself.

The paths come from the app's url_map, so no route can be left out by mistake: a route without an
entry in OPERATIONS below makes the document fail to build (and the tests fail). Only a blueprint
of pages for people (HTML, not API) is left out, and it says so itself: `undocumented(blueprint)`.
The request and answer
schemas come from the loaded model's input and output kinds (the task's: the same objects that
validate requests and shape answers) and the config (the batch limit), so the document cannot drift
from what the service accepts. Built once per app, on first request. Without a model
(server.require_model: false, not yet loaded) it leaves an item and an answer undescribed, and is
built again once a model is there.
"""

import re
from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Flask, current_app
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import Rule

from ..models.model import LoadedModel
from .serving import model_slot

openapi = Blueprint("openapi", __name__)

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
UNDOCUMENTED = "openapi_undocumented_blueprints"  # the app.extensions key naming them
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
JSON_ERROR = "#/components/schemas/Error"
V2_ERROR = "#/components/schemas/InferenceProtocolError"


@openapi.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The document, cached on the app; rebuilt only while it still lacks the model."""
    cached: tuple[LoadedModel | None, dict[str, Any]] | None = current_app.extensions.get("openapi_document")
    model = model_slot().model
    if cached is None or (cached[0] is None and model is not None):
        cached = (model, build_document(current_app, model))
        current_app.extensions["openapi_document"] = cached
    return cached[1]


def undocumented(blueprint: Blueprint) -> Blueprint:
    """Leave every route of `blueprint` out of the document: it serves pages for people, not the API."""

    def record(state: BlueprintSetupState) -> None:
        name = f"{state.name_prefix}.{state.name}".lstrip(".")  # the endpoints' prefix, as Flask makes it
        state.app.extensions.setdefault(UNDOCUMENTED, set()).add(name)

    blueprint.record(record)
    return blueprint


def documented_rules(app: Flask) -> list[Rule]:
    """The app's routes, by path, but those of undocumented blueprints."""
    left_out = app.extensions.get(UNDOCUMENTED, set())
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.rpartition(".")[0] not in left_out]
    return sorted(rules, key=lambda rule: rule.rule)


def build_document(app: Flask, model: LoadedModel | None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `app`'s routes, for this model (None: not loaded yet)."""
    config = app.config["SERVICE_CONFIG"]
    schemas = _schemas(model, app.config["MAX_BATCH_ROWS"])
    keyed = app.config["API_KEYS_REQUIRED"]
    paths: dict[str, dict[str, Any]] = {}
    for rule in documented_rules(app):
        if rule.endpoint not in OPERATIONS:
            raise KeyError(f"route {rule.rule} ({rule.endpoint}) has no entry in openapi.OPERATIONS")
        path = CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - IMPLICIT_METHODS):
            operation = OPERATIONS[rule.endpoint]()
            operation["operationId"] = f"{rule.endpoint.replace('.', '_')}_{method.lower()}" + (
                "_versioned" if "version" in rule.arguments else ""
            )
            operation["parameters"] = [_path_parameter(name) for name in sorted(rule.arguments)]
            if keyed and rule.endpoint in app.config["OPEN_ENDPOINTS"]:
                operation["security"] = []  # probes, and what config leaves open, take no key
            elif keyed:
                error = _v2_error if rule.endpoint.startswith("inference_protocol.") else _error
                operation["responses"]["401"] = error("No API key, or a wrong one (WWW-Authenticate: Bearer).")
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-ID"] = {"$ref": "#/components/headers/RequestId"}
            paths.setdefault(path, {})[method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": config.model.name,
            "version": config.model.version,
            "description": "Generated from the running service: its routes, its limits and its loaded model.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": {
                "RequestId": {
                    "description": "The request's id: the caller's X-Request-ID if well formed, else a new one.",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
                }
            },
        },
    }
    if keyed:  # API_KEYS is set (api/auth.py)
        document["components"]["securitySchemes"] = {"apiKey": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"apiKey": []}]
    return document


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}


def _schemas(model: LoadedModel | None, max_rows: int) -> dict[str, Any]:
    """The schemas of the request and answer bodies, from the model's input and output kinds."""
    inputs, outputs = (model.inputs, model.outputs) if model else (None, None)
    single, noun = (inputs.single, inputs.noun) if inputs else ("features", "item")
    item_name = inputs.schema_name if inputs else "Item"
    item = inputs.item_schema() if inputs else {"description": f"One {noun}: described once a model is loaded."}
    answer = outputs.answer_schema() if outputs else {"predictions": {"type": "array", "minItems": 1}}
    model_id = _object({"name": {"type": "string"}, "version": {"type": "string"}})
    item_ref = {"$ref": f"#/components/schemas/{item_name}"}
    return {
        item_name: item,
        "PredictRequest": {
            "oneOf": [
                _object({single: item_ref}),
                _object({"instances": {"type": "array", "items": item_ref, "minItems": 1, "maxItems": max_rows}}),
            ]
        },
        "PredictResponse": _object({**answer, "model": model_id}),
        "ModelId": model_id,
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "request_id": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "object"}},
                    },
                    optional=("details",),
                )
            }
        ),
        "InferenceProtocolError": _object({"error": {"type": "string"}}),
        "InferRequest": _infer_request(model, max_rows),
    }


def _infer_request(model: LoadedModel | None, max_rows: int) -> dict[str, Any]:
    """A v2 request: one tensor, whose datatype, shape and data the input kind describes."""
    tensor = {
        "type": "object",
        "properties": {"name": {"type": "string"}, **(model.inputs.v2_tensor_schema(max_rows) if model else {})},
        "required": ["datatype", "shape", "data"],
    }
    outputs: dict[str, Any] = {"type": "string"}
    if model:
        outputs = {"enum": list(model.outputs.output_names)}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1, "maxItems": 1},
            "outputs": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": outputs}, "required": ["name"]},
            },
        },
        "required": ["inputs"],
    }


def _object(properties: dict[str, Any], optional: Sequence[str] = ()) -> dict[str, Any]:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json({"$ref": JSON_ERROR}, description)


def _v2_error(description: str) -> dict[str, Any]:
    return _json({"$ref": V2_ERROR}, description)


def _either_error(description: str) -> dict[str, Any]:
    """A /v2 route's error that routing or the service's own handler may answer, in either shape."""
    return _json({"anyOf": [{"$ref": V2_ERROR}, {"$ref": JSON_ERROR}]}, description)


INTERNAL = "An unexpected error; its traceback goes only to the log."
NOT_READY = "No model is loaded yet."


def _health() -> dict[str, Any]:
    return {
        "summary": "Liveness: the process answers.",
        "responses": {
            "200": _json(_object({"status": {"const": "ok"}}), "Alive."),
            "500": _error(INTERNAL),
        },
    }


def _ready() -> dict[str, Any]:
    return {
        "summary": "Readiness: 200 only with a verified model loaded.",
        "responses": {
            "200": _json(
                _object({"status": {"const": "ready"}, "model": {"$ref": "#/components/schemas/ModelId"}}), "Ready."
            ),
            "503": _error(NOT_READY),
            "500": _error(INTERNAL),
        },
    }


def _model() -> dict[str, Any]:
    metadata = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "feature_names": {"type": "array", "items": {"type": "string"}},
            "target_name": {"type": "string"},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
        },
        "required": ["name", "version", "feature_names", "target_name", "metrics"],
        "description": "Also what the task's kinds record (feature ranges, class labels), and the artifacts' sha256.",
    }
    return {
        "summary": "The loaded model's metadata.",
        "responses": {"200": _json(metadata, "The metadata."), "503": _error(NOT_READY), "500": _error(INTERNAL)},
    }


def _predict() -> dict[str, Any]:
    return {
        "summary": "Predict one item or a batch (instances); the request and answer schemas are the task's.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
        },
        "responses": {
            "200": _json({"$ref": "#/components/schemas/PredictResponse"}, "A prediction per item."),
            "400": _error("Malformed JSON."),
            "413": _error("The body or the batch is larger than the limit."),
            "415": _error("The body is not labelled application/json."),
            "422": _error("The JSON is not one item or a batch of them as the model takes them; details name each."),
            "503": _error(NOT_READY),
            "500": _error(INTERNAL),
        },
    }
{%- if cookiecutter.enable_metrics %}


def _metrics() -> dict[str, Any]:
    return {
        "summary": "Prometheus metrics (server.enable_metrics).",
        "responses": {
            "200": {
                "description": "The Prometheus text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "404": _error("Metrics are disabled."),
            "500": _error(INTERNAL),
        },
    }
{%- endif %}


def _openapi() -> dict[str, Any]:
    return {
        "summary": "This document.",
        "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document."), "500": _error(INTERNAL)},
    }


def _v2_live() -> dict[str, Any]:
    return {
        "summary": "Open Inference Protocol: server liveness.",
        "responses": {"200": _json(_object({"live": {"const": True}}), "Live."), "500": _error(INTERNAL)},
    }


def _v2_ready() -> dict[str, Any]:
    answer = _object({"ready": {"type": "boolean"}})
    return {
        "summary": "Open Inference Protocol: server readiness.",
        "responses": {
            "200": _json(answer, "Ready."),
            "503": _json(answer, "Not ready."),
            "500": _error(INTERNAL),
        },
    }


def _v2_server() -> dict[str, Any]:
    answer = _object(
        {"name": {"type": "string"}, "version": {"type": "string"}, "extensions": {"type": "array", "maxItems": 0}}
    )
    return {
        "summary": "Open Inference Protocol: server metadata.",
        "responses": {"200": _json(answer, "The server's metadata."), "500": _error(INTERNAL)},
    }


def _tensor_metadata() -> dict[str, Any]:
    return _object(
        {
            "name": {"type": "string"},
            "datatype": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
        }
    )


def _v2_model() -> dict[str, Any]:
    answer = _object(
        {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": _tensor_metadata()},
            "outputs": {"type": "array", "items": _tensor_metadata()},
        }
    )
    return {
        "summary": "Open Inference Protocol: the model's metadata.",
        "responses": {
            "200": _json(answer, "The model's metadata."),
            "404": _either_error("No model (or version) by that name."),
            "503": _v2_error(NOT_READY),
            "500": _error(INTERNAL),
        },
    }


def _v2_model_ready() -> dict[str, Any]:
    answer = _object({"name": {"type": "string"}, "ready": {"type": "boolean"}})
    return {
        "summary": "Open Inference Protocol: model readiness.",
        "responses": {
            "200": _json(answer, "Ready."),
            "404": _either_error("No model (or version) by that name."),
            "503": _json(answer, "Not ready."),
            "500": _error(INTERNAL),
        },
    }


def _v2_infer() -> dict[str, Any]:
    output = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
            "datatype": {"type": "string"},
            "data": {"type": "array"},
        },
        "required": ["name", "shape", "datatype", "data"],
    }
    answer = {
        "type": "object",
        "properties": {
            "id": {},
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "outputs": {"type": "array", "items": output},
        },
        "required": ["model_name", "model_version", "outputs"],
        "additionalProperties": False,
    }
    return {
        "summary": "Open Inference Protocol: score one tensor (GET /v2/models/{name} gives its datatype and shape).",
        "description": "A tensor whose datatype, shape or data do not fit the model is answered 400.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InferRequest"}}},
        },
        "responses": {
            "200": _json(answer, "The requested outputs."),
            "400": _v2_error("Malformed JSON, or a tensor that does not fit the model."),
            "404": _either_error("No model (or version) by that name."),
            "413": _v2_error("The body or the batch is larger than the limit."),
            "503": _v2_error(NOT_READY),
            "500": _error(INTERNAL),
        },
    }


OPERATIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "api.health": _health,
    "api.ready": _ready,
    "api.model_metadata": _model,
    "api.predict_route": _predict,
{%- if cookiecutter.enable_metrics %}
    "api.metrics_route": _metrics,
{%- endif %}
    "openapi.openapi_document": _openapi,
    "inference_protocol.server_live": _v2_live,
    "inference_protocol.server_ready": _v2_ready,
    "inference_protocol.server_metadata": _v2_server,
    "inference_protocol.model_metadata": _v2_model,
    "inference_protocol.model_ready": _v2_model_ready,
    "inference_protocol.infer": _v2_infer,
}
