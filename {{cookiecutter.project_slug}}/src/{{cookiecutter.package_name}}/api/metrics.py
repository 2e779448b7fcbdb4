"""Prometheus metrics: what the service did, added up across gunicorn's workers.

Under gunicorn, gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at an empty folder before
anything imports prometheus_client; each worker then writes its numbers there, and /metrics
sums every worker's, the dead ones' included, so counts stay right when a worker is replaced.
"""

import functools
import os
from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Probes and scrapes are not traffic: counting them would drown the requests that matter.
UNCOUNTED_ROUTES = frozenset({"/health", "/ready", "/metrics", "/v2/health/live", "/v2/health/ready"})
# Any other method a client sends is counted as "other": a label value per made-up method would
# let clients create time series without end.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "http_requests_total",
    "Requests answered, by route, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Seconds to answer a request, by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PREDICTIONS = Counter(
    "predictions_total", "Rows predicted, by model version and class (or target)", ["model_version", "label"]
)
PREDICTION_ERRORS = Counter("prediction_errors_total", "Prediction requests refused, by error code", ["code"])
MODEL_INFO = Gauge(
    "model_info", "The model being served (value 1)", ["name", "version", "trained_at"], multiprocess_mode="max"
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    if route not in UNCOUNTED_ROUTES:
        requests, latency = _request_series(route, method if method in METHODS else "other", status)
        requests.inc()
        latency.observe(seconds)


def count_predictions(model_version: str, tally: Mapping[str, int]) -> None:
    """Rows by label (a class, or the target's name for a number): one update per label, not per row."""
    for label, rows in tally.items():
        _prediction_series(model_version, label).inc(rows)


# `labels()` checks and locks on every call; the routes, methods, statuses, versions and classes are
# few, so each series is looked up once per process and kept.
@functools.cache
def _request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route)


@functools.cache
def _prediction_series(model_version: str, label: str) -> Counter:
    return PREDICTIONS.labels(model_version, label)


def exposition() -> tuple[bytes, str]:
    """The text /metrics answers, summed over every worker when running under gunicorn."""
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
