"""The HTTP face of the model: `create_app()` builds the Flask app around a model loaded once.

A request's whole path: a route below -> `validation.{{ "texts" if cookiecutter.example_task == "text" else "features" }}_from_payload` -> `classifier.predict`.
Every API answer, errors included, is JSON; a traceback only ever reaches the log. Every answer
carries the security headers below.
"""

import logging
import re
import time
import uuid
from typing import Any

import orjson
from flask import Blueprint, Flask, Request, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
{%- if cookiecutter.enable_cors %}
from flask_cors import CORS
{%- endif %}
from werkzeug.exceptions import HTTPException{% if cookiecutter.enable_metrics %}, NotFound{% endif %}

from ..models.classifier import LoadedModel, ModelError, UnscorableRows, load_model, predict
from ..utils.helpers import AccessLog, Config, load_config, secret_key, setup_logging
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
{%- if cookiecutter.example_task == "text" %}
from .validation import MAX_DETAILS, ApiError, texts_from_payload
{%- else %}
from .validation import MAX_DETAILS, ApiError, features_from_payload
{%- endif %}

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
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

log = logging.getLogger(__name__)
access_log = AccessLog(log)
api = Blueprint("api", __name__)


class OrjsonProvider(DefaultJSONProvider):
    """JSON by orjson: a 1000-row answer encodes 15 times faster than with the standard library,
    a 1000-row request parses 3 times faster, and NumPy arrays (the probabilities) are written as
    they are. A body orjson refuses (strict JSON has no NaN or Infinity) is parsed again by the
    standard library, so that NaN reaches the validation and gets its clear 422, and malformed
    JSON still gets the standard library's 400 message."""

    def dumps(self, obj: Any, **_options: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode()

    def loads(self, s: str | bytes, **options: Any) -> Any:
        try:
            return orjson.loads(s)
        except orjson.JSONDecodeError:
            return super().loads(s, **options)


class CookieOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, but the signer is built only for a request that carries the
    cookie: the JSON API never does, and building it cost about 25 µs of every request here."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def create_app(config: Config | None = None) -> Flask:
    """Build the app; with no argument, from config/config.yaml (and its environment overrides)."""
    config = config or load_config()
    setup_logging(config.logging.level)
    app = Flask(__name__, static_folder=None)  # no app-wide /static: a blueprint with files serves its own
    app.session_interface = CookieOnlySessions()
    app.json = OrjsonProvider(app)
    app.config.from_mapping(
        SECRET_KEY=secret_key(config),
        SESSION_COOKIE_SAMESITE="Lax",  # the cookie goes with no other site's form post
        MAX_CONTENT_LENGTH=config.server.max_request_bytes,
        MAX_BATCH_ROWS=config.server.max_batch_rows,
{%- if cookiecutter.example_task == "text" %}
        MAX_TEXT_CHARS=config.server.max_text_chars,
{%- endif %}
{%- if cookiecutter.enable_metrics %}
        ENABLE_METRICS=config.server.enable_metrics,
{%- endif %}
        SERVICE_CONFIG=config,
    )
    app.extensions["model_slot"] = ModelSlot(config)
{%- if cookiecutter.enable_cors %}
    # Browsers on these origins (server.cors_origins) may call the API; others get no CORS headers.
    CORS(app, origins=config.server.cors_origins, expose_headers=["X-Request-ID"])
{%- endif %}
    # Imported here, as Flask's tutorial imports its blueprints: they (or what they import) use `ready_model`.
    from .inference_protocol import inference_protocol
    from .openapi import openapi
{%- if cookiecutter.include_web_ui %}
    from .web import web
{%- endif %}

    app.register_blueprint(api)
    app.register_blueprint(inference_protocol)
    app.register_blueprint(openapi)
{%- if cookiecutter.include_web_ui %}
    app.register_blueprint(web)
{%- endif %}
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(UnscorableRows, _unscorable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


class ModelSlot:
    """The app's one model, loaded at start-up and then only read.

    Without a model the service either refuses to start (server.require_model) or starts
    unready and looks for the artifact again, at most every server.model_retry_seconds.
    """

    def __init__(self, config: Config):
        self._model_config = config.model
        self._retry_seconds = config.server.model_retry_seconds
        self._tried_at = float("-inf")
        self.model: LoadedModel | None = None
        self.problem = ""
        self._try_load()
        if self.model is None and config.server.require_model:
            raise ModelError(self.problem)

    def _try_load(self) -> None:
        self._tried_at = time.monotonic()
        try:
            model = self._model_config
            self.model = load_model(model.artifact_path, model.trusted_types, model.runtime)
        except ModelError as error:
            self.problem = str(error)
            log.error("no model loaded", extra={"reason": self.problem})
            return
        metadata = self.model.metadata
{%- if cookiecutter.enable_metrics %}
        metrics.MODEL_INFO.labels(metadata["name"], metadata["version"], metadata["created_at"]).set(1)
{%- endif %}
        log.info(
            "model loaded",
            extra={"model": metadata["name"], "version": metadata["version"], "runtime": self.model.runtime},
        )

    def warm_up(self) -> None:
        """Ready the runtime in this process: gunicorn calls it in each worker, after the fork."""
        if self.model is not None:
            self.model.warm_up()

    def ready_model(self) -> LoadedModel:
        """The model, or a 503 ApiError saying why there is none."""
        if self.model is None and time.monotonic() - self._tried_at >= self._retry_seconds:
            self._try_load()
        if self.model is None:
            raise ApiError(self.problem, status=503, code="model_not_ready")
        return self.model


def ready_model() -> LoadedModel:
    """The model every route that predicts uses (loaded at start-up), or a 503 ApiError saying why there is none."""
    return current_app.extensions["model_slot"].ready_model()


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
def health():
    """Liveness: the process answers. Says nothing about the model."""
    return {"status": "ok"}


@api.get("/ready")
def ready():
    """Readiness: 200 only when a verified model is loaded, so a balancer sends traffic only then."""
    model = ready_model()
    return {"status": "ready", "model": {"name": model.metadata["name"], "version": model.metadata["version"]}}


@api.get("/model")
def model_metadata():
    return ready_model().metadata


@api.post("/predict")
def predict_route():
    model = ready_model()
{%- if cookiecutter.example_task == "text" %}
    limits = current_app.config
    texts = texts_from_payload(request.get_json(), limits["MAX_BATCH_ROWS"], limits["MAX_TEXT_CHARS"])
    labels, probabilities = predict(model, texts)
{%- else %}
    features = features_from_payload(request.get_json(), model.feature_names, current_app.config["MAX_BATCH_ROWS"])
    labels, probabilities = predict(model, features)
{%- endif %}
{%- if cookiecutter.enable_metrics %}
    metrics.count_predictions(model.metadata["version"], labels)
{%- endif %}
    return jsonify(
        predictions=labels,
        classes=model.class_labels,
        probabilities=probabilities,
        model={"name": model.metadata["name"], "version": model.metadata["version"]},
    )
{%- if cookiecutter.enable_metrics %}


@api.get("/metrics")
def metrics_route():
    """Prometheus' scrape target (server.enable_metrics); its own requests are not counted."""
    if not current_app.config["ENABLE_METRICS"]:
        raise NotFound("metrics are disabled (server.enable_metrics)")
    data, content_type = metrics.exposition()
    return Response(data, content_type=content_type)
{%- endif %}


def error_response(status: int, code: str, message: str, details: list | None = None) -> tuple[Response, int]:
    """The one error shape of the API: {"error": {"code", "message", "request_id"[, "details"]}}."""
    error = {"code": code, "message": message, "request_id": g.get("request_id")}
{%- if cookiecutter.enable_metrics %}
    if request.endpoint == "api.predict_route":
        metrics.PREDICTION_ERRORS.labels(code).inc()
{%- endif %}
    if details:
        error["details"] = details
    return jsonify(error=error), status


def _api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.details)


def _unscorable(error: UnscorableRows):
    details = [{"row": row, "problem": "values too large for the model to score"} for row in error.rows]
    return error_response(422, "invalid_input", str(error), details[:MAX_DETAILS])


def _http_error(error: HTTPException):
    status = error.code or 500
    message = error.description or error.name
    if status == 413:
        message = f"the request body is larger than the limit of {current_app.config['MAX_CONTENT_LENGTH']} bytes"
    response, _ = error_response(status, ERROR_CODES.get(status, "http_error"), message)
    response.headers.extend((name, value) for name, value in error.get_headers() if name.lower() != "content-type")
    return response, status


def _unexpected_error(error: Exception):
    log.error("unhandled error", exc_info=error, extra={"request_id": g.get("request_id")})
    return error_response(
        500, "internal_error", "the server could not answer this request; quote the request_id when reporting it"
    )
