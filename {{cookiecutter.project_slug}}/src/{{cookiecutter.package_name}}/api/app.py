"""`create_app()` assembles the service, as Flask's tutorial does: config, extensions, the model, blueprints, errors.

A request's whole path is in three files: `routes.py` (the route), `serving.py` (the model and the one
`predict`) and the task (`task.py`: what a request carries and what the answer holds).
"""

{% if cookiecutter.include_web_ui %}from datetime import timedelta

{% endif %}from flask import Flask
{%- if cookiecutter.enable_cors %}
from flask_cors import CORS
{%- endif %}
from werkzeug.middleware.proxy_fix import ProxyFix

from ..utils.helpers import Config, load_config, secret_key, setup_logging, trusted_hosts
from . import auth, errors, serving
from .extensions import CookieOnlySessions, JsonErrorRequest, OrjsonProvider
from .inference_protocol import inference_protocol
from .openapi import openapi
from .routes import api
{%- if cookiecutter.include_web_ui %}
from .web import web
{%- endif %}


def create_app(config: Config | None = None) -> Flask:
    """Build the app; with no argument, from config/config.yaml (and its environment overrides)."""
    config = config or load_config()
    setup_logging(config.logging.level)
    app = Flask(__name__, static_folder=None)  # no app-wide /static: a blueprint with files serves its own
    app.request_class = JsonErrorRequest
    app.session_interface = CookieOnlySessions()
    app.json = OrjsonProvider(app)
    app.config.from_mapping(
        SECRET_KEY=secret_key(config),
        TRUSTED_HOSTS=trusted_hosts(config),  # a request for any other host is a 400
        SESSION_COOKIE_SAMESITE="Lax",  # the cookie goes with no other site's form post
        SESSION_COOKIE_SECURE=config.environment == "production",  # sent over HTTPS only
{%- if cookiecutter.include_web_ui %}
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.server.session_lifetime_hours),
{%- endif %}
        MAX_CONTENT_LENGTH=config.server.max_request_bytes,
        MAX_BATCH_ROWS=config.server.max_batch_rows,
{%- if cookiecutter.enable_metrics %}
        ENABLE_METRICS=config.server.enable_metrics,
{%- endif %}
        SERVICE_CONFIG=config,
    )
    serving.init_app(app, config)
{%- if cookiecutter.enable_cors %}
    # Browsers on these origins (server.cors_origins) may call the API; others get no CORS headers.
    CORS(app, origins=config.server.cors_origins, expose_headers=["X-Request-ID"])
{%- endif %}
    app.register_blueprint(api)
    app.register_blueprint(inference_protocol)
    app.register_blueprint(openapi)
{%- if cookiecutter.include_web_ui %}
    app.register_blueprint(web)
{%- endif %}
    auth.init_app(app, config)  # after the blueprints: it reads their routes
    errors.init_app(app)
    if config.server.trusted_proxies:  # Werkzeug's ProxyFix: the client's address and scheme, from trusted hops only
        hops = config.server.trusted_proxies
        # Flask's documented way to add WSGI middleware; mypy flags any assignment to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
