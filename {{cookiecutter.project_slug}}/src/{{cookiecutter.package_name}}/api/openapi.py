"""GET /openapi.json: an OpenAPI 3.1 document of every API route, built from the app itself.

The paths come from the app's url_map, so no route can be left out by mistake: a route without an
entry in OPERATIONS below makes the document fail to build (and the tests fail). Only a blueprint
of pages for people (HTML, not API) is left out, and it says so itself: `undocumented(blueprint)`.
The request and answer
{%- if cookiecutter.example_task == "text" %}
schemas come from the loaded model (its class labels) and the config (the batch and text length
limits), so the document cannot drift from what the service accepts. Built once per app, on first
request. Without a model (server.require_model: false, not yet loaded) it describes a label as any
string, and is built again once a model is there.
{%- else %}
schemas come from the loaded model (its feature names, their count and its class labels) and the
config (the batch limit), so the document cannot drift from what the service accepts. Built once
per app, on first request. Without a model (server.require_model: false, not yet loaded) it
describes a row as an array of numbers of any length, and is built again once a model is there.
{%- endif %}
"""

import re
from collections.abc import Callable, Sequence

from flask import Blueprint, Flask, current_app
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import Rule
{%- if cookiecutter.example_task == "text" %}

from .inference_protocol import OUTPUT_NAMES, TEXT_DATATYPE
{%- else %}

from .inference_protocol import NUMERIC_DATATYPES, OUTPUT_NAMES
from .validation import MAX_MAGNITUDE
{%- endif %}

openapi = Blueprint("openapi", __name__)

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
UNDOCUMENTED = "openapi_undocumented_blueprints"  # the app.extensions key naming them
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
JSON_ERROR = "#/components/schemas/Error"
V2_ERROR = "#/components/schemas/InferenceProtocolError"


@openapi.get("/openapi.json")
def openapi_document():
    """The document, cached on the app; rebuilt only while it still lacks the model."""
    cached = current_app.extensions.get("openapi_document")
    model = current_app.extensions["model_slot"].model
    if cached is None or (cached[0] is None and model is not None):
{%- if cookiecutter.example_task == "text" %}
        cached = (model, build_document(current_app, model.class_labels if model else None))
{%- else %}
        names, labels = (model.feature_names, model.class_labels) if model else (None, None)
        cached = (model, build_document(current_app, names, labels))
{%- endif %}
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

{%- if cookiecutter.example_task == "text" %}


def build_document(app: Flask, class_labels: Sequence[str] | None) -> dict:
    """The OpenAPI 3.1 document of `app`'s routes, for a model with these classes (None: unknown)."""
    config = app.config["SERVICE_CONFIG"]
    schemas = _schemas(class_labels, app.config["MAX_BATCH_ROWS"], app.config["MAX_TEXT_CHARS"])
{%- else %}


def build_document(app: Flask, feature_names: Sequence[str] | None, class_labels: Sequence[str] | None) -> dict:
    """The OpenAPI 3.1 document of `app`'s routes, for a model with these features and classes (None: unknown)."""
    config = app.config["SERVICE_CONFIG"]
    schemas = _schemas(feature_names, class_labels, app.config["MAX_BATCH_ROWS"])
{%- endif %}
    paths: dict[str, dict] = {}
    for rule in documented_rules(app):
        if rule.endpoint not in OPERATIONS:
            raise KeyError(f"route {rule.rule} ({rule.endpoint}) has no entry in openapi.OPERATIONS")
        path = CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - IMPLICIT_METHODS):
            operation = OPERATIONS[rule.endpoint]()
            operation["operationId"] = f"{rule.endpoint.replace('.', '_')}_{method.lower()}" + (
                "_versioned" if "version" in rule.arguments else ""
            )
            operation["parameters"] = [_path_parameter(name) for name in sorted(rule.arguments)]
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-ID"] = {"$ref": "#/components/headers/RequestId"}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": config.model.name,
            "version": config.model.version,
{%- if cookiecutter.example_task == "text" %}
            "description": "Generated from the running service: its routes, its limits and its loaded model's classes.",
{%- else %}
            "description": "Generated from the running service: its routes and its loaded model's features.",
{%- endif %}
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


def _path_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
{%- if cookiecutter.example_task == "text" %}


def _schemas(class_labels: Sequence[str] | None, max_rows: int, max_chars: int) -> dict:
    text = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_chars,
        "pattern": r"\S",
        "description": "One text: a string with at least one character that is not whitespace.",
    }
{%- else %}


def _schemas(feature_names: Sequence[str] | None, class_labels: Sequence[str] | None, max_rows: int) -> dict:
    number = {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}
    if feature_names is None:
        row: dict = {"type": "array", "items": number, "minItems": 1}
    else:
        width = len(feature_names)
        row = {
            "oneOf": [
                {"type": "array", "items": number, "minItems": width, "maxItems": width},
                {
                    "type": "object",
                    "properties": dict.fromkeys(feature_names, number),
                    "required": list(feature_names),
                    "additionalProperties": False,
                },
            ]
        }
{%- endif %}
    label = {"type": "string", "enum": list(class_labels)} if class_labels is not None else {"type": "string"}
    probabilities: dict = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}}
    if class_labels is not None:
        probabilities.update(minItems=len(class_labels), maxItems=len(class_labels))
    model_id = _object({"name": {"type": "string"}, "version": {"type": "string"}})
    return {
{%- if cookiecutter.example_task == "text" %}
        "Text": text,
        "PredictRequest": {
            "oneOf": [
                _object({"text": {"$ref": "#/components/schemas/Text"}}),
                _object(
                    {
                        "instances": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Text"},
{%- else %}
        "Row": {**row, "description": "One row: the feature values in the model's order, or keyed by feature name."},
        "PredictRequest": {
            "oneOf": [
                _object({"features": {"$ref": "#/components/schemas/Row"}}),
                _object(
                    {
                        "instances": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Row"},
{%- endif %}
                            "minItems": 1,
                            "maxItems": max_rows,
                        }
                    }
                ),
            ]
        },
        "PredictResponse": _object(
            {
                "predictions": {"type": "array", "items": label, "minItems": 1},
                "classes": {"type": "array", "items": label},
                "probabilities": {"type": "array", "items": probabilities, "minItems": 1},
                "model": model_id,
            }
        ),
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
{%- if cookiecutter.example_task == "text" %}
        "InferRequest": _infer_request(max_rows),
{%- else %}
        "InferRequest": _infer_request(number, None if feature_names is None else len(feature_names), max_rows),
{%- endif %}
    }
{%- if cookiecutter.example_task == "text" %}


def _infer_request(max_rows: int) -> dict:
    """A v2 request: one tensor of texts, shape [rows] or [rows, 1]. JSON Schema cannot tie the length of
    `data` to `shape`: a mismatch is answered 400."""
    text = {"$ref": "#/components/schemas/Text"}
    one_text = {"type": "array", "prefixItems": [text], "minItems": 1, "maxItems": 1}
    tensor = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "datatype": {"const": TEXT_DATATYPE},
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
        },
        "required": ["datatype", "shape", "data"],
    }
{%- else %}


def _infer_request(number: dict, width: int | None, max_rows: int) -> dict:
    """A v2 request: one tensor of shape [rows, width]. JSON Schema cannot tie the length of `data` to
    `shape` (rows lists of width numbers, or rows * width numbers flat): a mismatch is answered 400."""
    columns = {"type": "integer", "minimum": 1} if width is None else {"const": width}
    row = {"type": "array", "items": number, "minItems": 1}
    if width is not None:
        row.update(minItems=width, maxItems=width)
    tensor = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "datatype": {"enum": list(NUMERIC_DATATYPES)},
            "shape": {
                "type": "array",
                "prefixItems": [{"type": "integer", "minimum": 1, "maximum": max_rows}, columns],
                "minItems": 2,
                "maxItems": 2,
            },
            "data": {
                "oneOf": [
                    {"type": "array", "items": number, "minItems": 1},
                    {"type": "array", "items": row, "minItems": 1},
                ]
            },
        },
        "required": ["datatype", "shape", "data"],
    }
{%- endif %}
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1, "maxItems": 1},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"enum": list(OUTPUT_NAMES)}},
                    "required": ["name"],
                },
            },
        },
        "required": ["inputs"],
    }


def _object(properties: dict, optional: Sequence[str] = ()) -> dict:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json({"$ref": JSON_ERROR}, description)


def _v2_error(description: str) -> dict:
    return _json({"$ref": V2_ERROR}, description)


def _either_error(description: str) -> dict:
    """A /v2 route's error that routing or the service's own handler may answer, in either shape."""
    return _json({"anyOf": [{"$ref": V2_ERROR}, {"$ref": JSON_ERROR}]}, description)


INTERNAL = "An unexpected error; its traceback goes only to the log."
NOT_READY = "No model is loaded yet."


def _health() -> dict:
    return {
        "summary": "Liveness: the process answers.",
        "responses": {
            "200": _json(_object({"status": {"const": "ok"}}), "Alive."),
            "500": _error(INTERNAL),
        },
    }


def _ready() -> dict:
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


def _model() -> dict:
    metadata = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "feature_names": {"type": "array", "items": {"type": "string"}},
            "feature_ranges": {
                "type": "object",
                "additionalProperties": _object({"min": {"type": "number"}, "max": {"type": "number"}}),
            },
            "class_labels": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "version", "feature_names", "class_labels"],
    }
    return {
        "summary": "The loaded model's metadata.",
        "responses": {"200": _json(metadata, "The metadata."), "503": _error(NOT_READY), "500": _error(INTERNAL)},
    }


def _predict() -> dict:
    return {
{%- if cookiecutter.example_task == "text" %}
        "summary": "Predict the class of one text (text) or of a batch (instances).",
{%- else %}
        "summary": "Predict the class of one row (features) or of a batch (instances).",
{%- endif %}
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}},
        },
        "responses": {
            "200": _json({"$ref": "#/components/schemas/PredictResponse"}, "A label and probabilities per row."),
            "400": _error("Malformed JSON."),
            "413": _error("The body or the batch is larger than the limit."),
            "415": _error("The body is not labelled application/json."),
{%- if cookiecutter.example_task == "text" %}
            "422": _error("The JSON is not one text or a list of texts, or a text is empty, not a string or too long."),
{%- else %}
            "422": _error("The JSON does not describe rows of the model's features."),
{%- endif %}
            "503": _error(NOT_READY),
            "500": _error(INTERNAL),
        },
    }
{%- if cookiecutter.enable_metrics %}


def _metrics() -> dict:
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


def _openapi() -> dict:
    return {
        "summary": "This document.",
        "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document."), "500": _error(INTERNAL)},
    }


def _v2_live() -> dict:
    return {
        "summary": "Open Inference Protocol: server liveness.",
        "responses": {"200": _json(_object({"live": {"const": True}}), "Live."), "500": _error(INTERNAL)},
    }


def _v2_ready() -> dict:
    answer = _object({"ready": {"type": "boolean"}})
    return {
        "summary": "Open Inference Protocol: server readiness.",
        "responses": {
            "200": _json(answer, "Ready."),
            "503": _json(answer, "Not ready."),
            "500": _error(INTERNAL),
        },
    }


def _v2_server() -> dict:
    answer = _object(
        {"name": {"type": "string"}, "version": {"type": "string"}, "extensions": {"type": "array", "maxItems": 0}}
    )
    return {
        "summary": "Open Inference Protocol: server metadata.",
        "responses": {"200": _json(answer, "The server's metadata."), "500": _error(INTERNAL)},
    }


def _tensor_metadata() -> dict:
    return _object(
        {
            "name": {"type": "string"},
            "datatype": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer"}},
        }
    )


def _v2_model() -> dict:
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


def _v2_model_ready() -> dict:
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


def _v2_infer() -> dict:
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
{%- if cookiecutter.example_task == "text" %}
        "summary": "Open Inference Protocol: score one tensor of texts, shape [rows] or [rows, 1].",
{%- else %}
        "summary": "Open Inference Protocol: score one tensor of shape [rows, features].",
{%- endif %}
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


OPERATIONS: dict[str, Callable[[], dict]] = {
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
