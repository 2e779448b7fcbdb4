"""API keys: with API_KEYS (or API_KEYS_FILE) set, every route but the probes needs `Authorization: Bearer <key>`.

The keys are read once, when the app is built (utils/helpers.py, `api_keys`), and only their SHA-256
digests are kept; a presented key is hashed and compared with every digest in constant time, so how
long a refusal takes says nothing about the keys. A missing or wrong key is a 401 with
`WWW-Authenticate: Bearer`, counted like any other answer; no key is ever logged.
"""

import hashlib
import hmac

from flask import Flask, current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import SecurityError, Unauthorized

from ..utils.helpers import Config, api_keys

# Probes carry no key: liveness and readiness, in both APIs' words.
PROBES = frozenset({"api.health", "api.ready", "inference_protocol.server_live", "inference_protocol.server_ready"})


def init_app(app: Flask, config: Config) -> None:
    """Require a key on every route but the probes (and those config leaves open), when keys are set."""
    keys = api_keys(config)
    app.config["API_KEYS_REQUIRED"] = bool(keys)
    if not keys:
        return
    app.config["API_KEY_DIGESTS"] = tuple(_digest(key) for key in keys)
    app.config["OPEN_ENDPOINTS"] = PROBES | open_by_config(app, config)
    app.before_request(require_api_key)


def open_by_config(app: Flask, config: Config) -> frozenset[str]:
    """The endpoints config leaves open (server.*_needs_api_key, config/config.yaml): each a choice."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    opened: set[str] = set()
{%- if cookiecutter.enable_metrics %}
    if not config.server.metrics_needs_api_key:
        opened.add("api.metrics_route")
{%- endif %}
{%- if cookiecutter.include_web_ui %}
    if not config.server.page_needs_api_key:
        opened |= {endpoint for endpoint in endpoints if endpoint.startswith("web.")}
{%- endif %}
    return frozenset(opened & endpoints)


def require_api_key() -> None:
    if request.endpoint in current_app.config["OPEN_ENDPOINTS"] or isinstance(request.routing_exception, SecurityError):
        return  # a probe, or an untrusted Host header: that 400 comes first
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    presented = _digest(key.strip())
    # Every digest is compared (no early exit), each in constant time.
    matches = [hmac.compare_digest(presented, digest) for digest in current_app.config["API_KEY_DIGESTS"]]
    if scheme.lower() != "bearer" or not any(matches):
        raise Unauthorized(
            "this route needs an API key: send the header 'Authorization: Bearer <key>'",
            www_authenticate=WWWAuthenticate("bearer"),
        )


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
