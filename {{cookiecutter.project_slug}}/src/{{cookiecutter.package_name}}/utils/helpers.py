"""Settings and logging: the two things every other module needs and none should re-implement.

Settings come from config/config.yaml, then environment variables override single keys;
the result is checked once, at start-up, so a typo stops the program with the key's name
instead of surfacing later as a wrong behaviour.
"""

import contextlib
import dataclasses
import ipaddress
import logging
import os
{%- if cookiecutter.enable_cors %}
import re
{%- endif %}
import sys
import time
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml

DEFAULT_CONFIG_PATH = Path("config/config.yaml")
ENV_PREFIX = "{{ cookiecutter.package_name|upper }}__"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
{%- if cookiecutter.enable_cors %}
CORS_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")
{%- endif %}


class ConfigError(ValueError):
    """A setting is missing, unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    csv_path: str | None
    feature_columns: list[str] | None
    target_column: str
    test_size: float
    random_state: int

    def __post_init__(self) -> None:
        _require(self.csv_path is None or bool(self.csv_path), "data.csv_path", "must name a CSV file, or be null")
        _require(self.feature_columns != [], "data.feature_columns", "must list at least one column, or be null")
        _require(0 < self.test_size < 1, "data.test_size", "must be between 0 and 1")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    name: str
    version: str
    artifact_path: str
    runtime: str
    trusted_types: list[str]
    hyperparameters: dict[str, Any]

    def __post_init__(self) -> None:
        _require(self.artifact_path.endswith(".skops"), "model.artifact_path", "must end in .skops")
        _require(self.runtime in ("onnx", "sklearn"), "model.runtime", "must be 'onnx' or 'sklearn'")


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    max_request_bytes: int
    max_batch_rows: int
    trusted_hosts: list[str]
    trusted_proxies: int
    public_model_details: bool
    require_api_keys: bool
{%- if cookiecutter.enable_metrics %}
    metrics_needs_api_key: bool
{%- endif %}
{%- if cookiecutter.include_web_ui %}
    page_needs_api_key: bool
    session_lifetime_hours: float
{%- endif %}
    require_model: bool
    model_retry_seconds: float
    workers: int | None
    max_connections_per_worker: int
    header_timeout_seconds: int
    body_timeout_seconds: int
    graceful_timeout_seconds: int
    worker_lifetime_seconds: int | None
{%- if cookiecutter.enable_metrics %}
    enable_metrics: bool
{%- endif %}
{%- if cookiecutter.enable_cors %}
    cors_origins: list[str]
{%- endif %}

    def __post_init__(self) -> None:
        _require(0 < self.port < 65536, "server.port", "must be between 1 and 65535")
        _require(self.workers is None or self.workers > 0, "server.workers", "must be positive or null")
        _require(self.max_connections_per_worker > 0, "server.max_connections_per_worker", "must be positive")
        _require(0 < self.header_timeout_seconds <= 60, "server.header_timeout_seconds", "must be 1 to 60")
        _require(0 < self.body_timeout_seconds <= 600, "server.body_timeout_seconds", "must be 1 to 600")
        _require(0 < self.graceful_timeout_seconds <= 1800, "server.graceful_timeout_seconds", "must be 1 to 1800")
        lifetime = self.worker_lifetime_seconds
        _require(lifetime is None or lifetime >= 60, "server.worker_lifetime_seconds", "must be at least 60, or null")
        _require(self.model_retry_seconds >= 0, "server.model_retry_seconds", "must not be negative")
        _require(self.max_request_bytes > 0, "server.max_request_bytes", "must be positive")
        _require(self.max_batch_rows > 0, "server.max_batch_rows", "must be positive")
        _require(0 <= self.trusted_proxies <= 10, "server.trusted_proxies", "must be 0 to 10")
        for index, host in enumerate(self.trusted_hosts):
            rule = "must be a host name, or an IPv4 network such as 10.0.0.0/8"
            _require("/" not in host or ipv4_network(host) is not None, f"server.trusted_hosts[{index}]", rule)
{%- if cookiecutter.include_web_ui %}
        _require(self.session_lifetime_hours > 0, "server.session_lifetime_hours", "must be positive")
{%- endif %}
{%- if cookiecutter.enable_cors %}
        for index, origin in enumerate(self.cors_origins):
            rule = "must be '*' or an origin such as https://app.example.com (scheme, host, optional port)"
            _require(origin == "*" or CORS_ORIGIN.fullmatch(origin) is not None, f"server.cors_origins[{index}]", rule)
{%- endif %}


@dataclasses.dataclass(frozen=True)
class LoggingConfig:
    level: str

    def __post_init__(self) -> None:
        _require(self.level in LOG_LEVELS, "logging.level", f"must be one of {', '.join(LOG_LEVELS)}")


@dataclasses.dataclass(frozen=True)
class Config:
    environment: str
    data: DataConfig
    model: ModelConfig
    server: ServerConfig
    logging: LoggingConfig
    # Settings of the task's input kind (schemas/), checked when the model loads; most kinds take none.
    inputs: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _require(
            self.environment in ("development", "production"),
            "environment",
            "must be 'development' or 'production'",
        )
{%- if cookiecutter.enable_cors %}
        _require(
            self.environment != "production" or "*" not in self.server.cors_origins,
            "server.cors_origins",
            "must list the allowed origins in production, not '*'",
        )
{%- endif %}


def ipv4_network(entry: str) -> ipaddress.IPv4Network | None:
    """The IPv4 network (or address) a server.trusted_hosts entry names; None for a host name."""
    try:
        return ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return None


def _require(condition: bool, key: str, rule: str) -> None:
    if not condition:
        raise ConfigError(f"config key '{key}' {rule}")


def _parse_yaml(text: str) -> Any:
    """YAML's safe subset, read by libyaml when PyYAML's wheel has it: ten times faster than the pure-Python reader
    (0.35 ms against 4.4 ms for config.yaml), the same values."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (a safe loader)


def load_config(
    path: str | Path = DEFAULT_CONFIG_PATH,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Read the YAML file, apply environment then explicit overrides, and validate the result."""
    path = Path(path)
    try:
        raw = _parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings")
    _apply_env(raw, os.environ if env is None else env)
    _merge(raw, overrides or {})
    config: Config = _build(Config, raw, "")
    return config


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        *parents, leaf = name[len(ENV_PREFIX) :].split("__")
        section: Any = raw
        for part in parents:
            section = section.get(_key_named(section, part)) if isinstance(section, dict) else None
        key = _key_named(section, leaf) if isinstance(section, dict) else None
        if key is None:
            raise ConfigError(f"environment variable {name} names no config key")
        try:
            section[key] = _parse_yaml(text)
        except yaml.YAMLError:
            raise ConfigError(f"environment variable {name} is not a valid YAML value") from None


def _key_named(section: dict[str, Any], part: str) -> str | None:
    """The key of `section` that an upper-case environment variable part stands for."""
    return next((key for key in section if str(key).upper() == part.upper()), None)


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _build(cls: Any, raw: Any, prefix: str) -> Any:
    """Make the dataclass `cls` from a mapping, naming the first key that does not fit."""
    section = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"config key '{section}' must be a mapping")
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    names = [field.name for field in fields]
    optional = {field.name for field in fields if field.default_factory is not dataclasses.MISSING}
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise ConfigError(f"unknown config key '{prefix}{unknown[0]}' (known in {section}: {', '.join(names)})")
    values = {}
    for name in names:
        key = prefix + name
        if name not in raw:
            if name in optional:
                continue
            raise ConfigError(f"config key '{key}' is required")
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, raw[name], key + ".")
        else:
            values[name] = _check_type(raw[name], hint, key)
    return cls(**values)


def _check_type(value: Any, hint: Any, key: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        (hint,) = [arg for arg in args if arg is not type(None)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin is list and isinstance(value, list):
        return [_check_type(item, args[0], f"{key}[{index}]") for index, item in enumerate(value)]
    if origin is dict and isinstance(value, dict):
        return {str(name): _check_type(item, args[1], f"{key}.{name}") for name, item in value.items()}
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    expected = getattr(origin or hint, "__name__", str(hint))
    raise ConfigError(f"config key '{key}' must be of type {expected}, not {type(value).__name__}")


def training_settings(config: Config) -> dict[str, Any]:
    """The settings a model is made with (its data, its model and input settings), as its lineage records them."""
    return {"data": dataclasses.asdict(config.data), "model": dataclasses.asdict(config.model), "inputs": config.inputs}


def trusted_hosts(config: Config) -> list[str] | None:
    """The host names the app answers for (Flask's TRUSTED_HOSTS), or None: any, in development only."""
    if config.server.trusted_hosts:
        return config.server.trusted_hosts
    if config.environment == "production":
        raise ConfigError(
            "config key 'server.trusted_hosts' must list the service's host names when environment is 'production'"
        )
    return None


MIN_SECRET_KEY_CHARACTERS = 32
# "change-me" repeated has 8 distinct characters; 64 random hex digits miss 6 of 16 once in a billion keys.
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 11
# Words of the example keys in READMEs and tutorials ("change-me", "your-secret-key"): a random key has none of them.
EXAMPLE_KEY_WORDS = ("change", "example", "secret", "password", "default")


def secret_key(config: Config, env: Mapping[str, str] | None = None) -> str:
    """The session-signing key: only ever from the environment; in production, mandatory and strong:
    whoever can guess it can sign any session cookie."""
    key = (os.environ if env is None else env).get("SECRET_KEY", "")
    if config.environment != "production":
        return key or os.urandom(32).hex()
    if not key:
        raise ConfigError("SECRET_KEY must be set in the environment when environment is 'production'")
    if _guessable(key) or any(word in key.lower() for word in EXAMPLE_KEY_WORDS):
        raise ConfigError(
            f"SECRET_KEY is too weak for production: use {MIN_SECRET_KEY_CHARACTERS} or more random characters, "
            """e.g. python -c 'import secrets; print(secrets.token_hex(32))'"""
        )
    return key


def _guessable(key: str) -> bool:
    """Too short, or of too few distinct characters, to be a random key (SECRET_KEY's rule, and API keys')."""
    return len(key) < MIN_SECRET_KEY_CHARACTERS or len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS


def api_keys(config: Config, env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The keys clients must present: API_KEYS (comma-separated) or the file API_KEYS_FILE names (a mounted
    secret: one per line, or comma-separated). None: no key is asked for, which production refuses unless
    server.require_api_keys is false. Like SECRET_KEY, never in config; error messages never quote a key."""
    env = os.environ if env is None else env
    text = env.get("API_KEYS", "")
    if path := env.get("API_KEYS_FILE"):
        if text:
            raise ConfigError("set API_KEYS or API_KEYS_FILE, not both")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"API_KEYS_FILE {path}: cannot be read ({error})") from None
    keys = tuple(key.strip() for key in text.replace("\n", ",").split(",") if key.strip())
    for number, key in enumerate(keys, 1):
        if _guessable(key):
            raise ConfigError(
                f"API key {number} is too weak: use {MIN_SECRET_KEY_CHARACTERS} or more random characters, "
                """e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"""
            )
    if not keys and config.environment == "production" and config.server.require_api_keys:
        raise ConfigError(
            "API_KEYS (or API_KEYS_FILE) must be set in the environment when environment is 'production'; "
            "behind a proxy that authenticates every request, set config key 'server.require_api_keys' to false"
        )
    return keys


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so log collectors need no parsing rules."""

    RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, LOG_TIME_FORMAT),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        for key in fields.keys() - self.RESERVED:
            entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class AccessLog:
    """Writes the one line per request of the JSON access log, in JsonFormatter's shape, at INFO.

    It goes straight to standard error: through `logging` (a record, the handler's lock, the
    formatter) each line cost 28 µs, written directly 5 µs. The level is still logging's.
    Standard error is line-buffered, so each line leaves in one write, whole."""

    def __init__(self, logger: logging.Logger):
        self._logger = logger

    def write(self, **fields: Any) -> None:
        if self._logger.isEnabledFor(logging.INFO):
            entry = {
                "time": time.strftime(LOG_TIME_FORMAT),
                "level": "INFO",
                "logger": self._logger.name,
                "message": "request",
                **fields,
            }
            with contextlib.suppress(OSError, ValueError):  # a closed or broken stream costs the line, not the answer
                sys.stderr.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE).decode())


def setup_logging(level: str) -> None:
    """Send every log record of the process, as JSON lines, to standard error (once, however often called)."""
    # The JSON lines carry no source line, thread or process: skip collecting them for every
    # record (the logging HOWTO's "Optimization" section), which saves a stack walk per request.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
