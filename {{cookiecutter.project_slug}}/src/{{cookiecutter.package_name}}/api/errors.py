"""The API's one error shape, {"error": {"code", "message", "request_id"[, "details"]}}, for every error.

Every API answer, errors included, is JSON; a traceback only ever reaches the log.
"""

import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, SecurityError

from ..errors import ApiError
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> tuple[Response, int]:
    """The one error shape of the API."""
    error = {"code": code, "message": message, "request_id": g.get("request_id")}
{%- if cookiecutter.enable_metrics %}
    if request.endpoint == "api.predict_route":
        metrics.PREDICTION_ERRORS.labels(code).inc()
{%- endif %}
    if details:
        error["details"] = details
    return jsonify(error=error), status


def _api_error(error: ApiError) -> tuple[Response, int]:
    return error_response(error.status, error.code, error.message, error.details)


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    message = error.description or error.name
    if isinstance(error, SecurityError):  # Werkzeug's message would echo the forged Host header
        message = "the Host header names a host that server.trusted_hosts does not list"
    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        message = f"the request body is larger than the limit of {limit} bytes"
        if request.content_length is not None and request.content_length <= limit:  # Werkzeug's other 413
            message = f"the form has more parts than the limit of {current_app.config['MAX_FORM_PARTS']}"
    response, _ = error_response(status, ERROR_CODES.get(status, "http_error"), message)
    response.headers.extend(headers_of(error))
    return response, status


def headers_of(error: HTTPException) -> list[tuple[str, str]]:
    """The headers an HTTP error carries (WWW-Authenticate, Allow, Retry-After), less its HTML content type."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    log.error("unhandled error", exc_info=error, extra={"request_id": g.get("request_id")})
    return error_response(
        500, "internal_error", "the server could not answer this request; quote the request_id when reporting it"
    )
