"""The JSON API: liveness, readiness, the model's metadata, predictions{% if cookiecutter.enable_metrics %} and metrics{% endif %}; and what every answer gets.

A prediction's whole path: `predict_route` below -> `serving.predict` (the model, the task's input
kind to validate, the model to score) -> the task's output kind to answer. Every answer, the page's
and /v2's too, gets a request id, a JSON access-log line{% if cookiecutter.enable_metrics %}, its metrics{% endif %} and the security headers below.
"""

import logging
import re
import time
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
{%- if cookiecutter.enable_metrics %}
from werkzeug.exceptions import NotFound
{%- endif %}

from ..utils.helpers import AccessLog
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
from .serving import predict, ready_model

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A browser given these runs no inline or foreign script, loads nothing from elsewhere, shows the
# answer in no frame, never second-guesses its content type and sends no Referer from it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
SECURITY_HEADER_ITEMS = tuple(SECURITY_HEADERS.items())

access_log = AccessLog(logging.getLogger(__name__))
api = Blueprint("api", __name__)


@api.before_app_request
def _start_request() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


@api.after_app_request
def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.request_id
    seconds = time.perf_counter() - g.started
{%- if cookiecutter.enable_metrics %}
    if current_app.config["ENABLE_METRICS"]:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        metrics.observe_request(route, request.method, response.status_code, seconds)
{%- endif %}
    access_log.write(
        client=request.remote_addr,
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=round(seconds * 1000, 3),
        request_id=g.request_id,
    )
    return response


@api.after_app_request
def _add_security_headers(response: Response) -> Response:
    response.headers.extend(SECURITY_HEADER_ITEMS)  # appended, not replaced: no route sets them itself
    return response


@api.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about the model."""
    return {"status": "ok"}


@api.get("/ready")
def ready() -> dict[str, Any]:
    """Readiness: 200 only when a verified model is loaded, so a balancer sends traffic only then."""
    model = ready_model()
    return {"status": "ready", "model": {"name": model.name, "version": model.version}}


# What /model leaves out with server.public_model_details false: how the model was built.
BUILD_DETAILS = frozenset(
    {
        "python_version",
        "sklearn_version",
        "skops_version",
        "artifact_sha256",
        "onnx_sha256",
        "training_data_sha256",
        "hyperparameters",
        "git_commit",
        "git_dirty",
        "config_sha256",
    }
)


@api.get("/model")
def model_metadata() -> dict[str, Any]:
    metadata = ready_model().metadata
    if current_app.config["SERVICE_CONFIG"].server.public_model_details:
        return metadata
    return {field: value for field, value in metadata.items() if field not in BUILD_DETAILS}


@api.post("/predict")
def predict_route() -> Response:
    """One item ({"<single>": item}) or a batch ({"instances": [...]}), as the task's input kind names them."""
    payload = request.get_json()
    model, _features, prediction = predict(lambda inputs: inputs.items_of(payload))
    return jsonify(**model.outputs.answer(prediction), model={"name": model.name, "version": model.version})
{%- if cookiecutter.enable_metrics %}


@api.get("/metrics")
def metrics_route() -> Response:
    """Prometheus' scrape target (server.enable_metrics); its own requests are not counted."""
    if not current_app.config["ENABLE_METRICS"]:
        raise NotFound("metrics are disabled (server.enable_metrics)")
    data, content_type = metrics.exposition()
    return Response(data, content_type=content_type)
{%- endif %}
