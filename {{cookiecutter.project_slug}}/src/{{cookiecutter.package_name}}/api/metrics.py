"""Prometheus metrics: what the service did, added up across the server's workers.

Under the production server, server.py points PROMETHEUS_MULTIPROC_DIR at a new folder before
anything imports prometheus_client; each worker then writes its numbers there, one file per
process and kind, and /metrics sums every worker's, the dead ones' included, so counts stay
right when a worker is replaced. A new worker folds the files of the dead into one.
"""

import contextlib
import fcntl
import functools
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

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
from prometheus_client.mmap_dict import MmapedDict

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
OUT_OF_RANGE = Counter(
    "input_values_out_of_range_total",
    "Scored values outside the range seen in training, by feature (a text's length for texts)",
    ["feature"],
)
# "livemax": only live processes count, so a model no process serves any more drops out.
MODEL_INFO = Gauge(
    "model_info", "The model being served (value 1)", ["name", "version", "trained_at"], multiprocess_mode="livemax"
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


def count_out_of_range(tally: Mapping[str, int]) -> None:
    for feature, values in tally.items():
        _out_of_range_series(feature).inc(values)


def out_of_range_shares() -> dict[str, float]:
    """Each feature's values outside its training range, as a share of the rows scored (by every worker)."""
    rows = 0.0
    outside: dict[str, float] = {}
    with _every_process() as registry:
        for family in registry.collect():
            for sample in family.samples:
                if sample.name == "predictions_total":
                    rows += sample.value
                elif sample.name == "input_values_out_of_range_total":
                    feature = sample.labels["feature"]
                    outside[feature] = outside.get(feature, 0.0) + sample.value
    return {feature: values / rows for feature, values in sorted(outside.items())} if rows else {}


# `labels()` checks and locks on every call; the routes, methods, statuses, versions and classes are
# few, so each series is looked up once per process and kept.
@functools.cache
def _request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route)


@functools.cache
def _prediction_series(model_version: str, label: str) -> Counter:
    return PREDICTIONS.labels(model_version, label)


@functools.cache
def _out_of_range_series(feature: str) -> Counter:
    return OUT_OF_RANGE.labels(feature)


def exposition() -> tuple[bytes, str]:
    """The text /metrics answers, summed over every worker when running under the production server."""
    with _every_process() as registry:
        return generate_latest(registry), CONTENT_TYPE_LATEST


@contextlib.contextmanager
def _every_process() -> Iterator[CollectorRegistry]:
    """The metrics of every worker under the production server (this process's alone otherwise)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder is None:
        yield REGISTRY
        return
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, folder)
    with _folder_lock(Path(folder), fcntl.LOCK_SH):  # never while files are being folded
        yield registry


def forget_dead_processes() -> None:
    """Fold the counts of processes that have exited into one file per kind, and delete theirs.

    Without this, every replaced worker leaves its files behind for every scrape to read again
    (300 worker deaths left 715 files and a /metrics 16 times slower). Counters, histograms and
    summaries add up across files, so one file of sums gives the same totals; a dead process's
    gauges ("live" modes) no longer count at all."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    with _folder_lock(folder, fcntl.LOCK_EX):
        for path in folder.glob("*.db"):
            kind, _, pid = path.stem.rpartition("_")
            if not pid.isdigit() or _is_running(int(pid)):
                continue
            if not kind.startswith("gauge"):
                _add_into(folder / f"{kind}_dead.db", path)
            path.unlink()


def _add_into(total_path: Path, path: Path) -> None:
    totals = MmapedDict(str(total_path))
    try:
        for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(path)):
            total, _ = totals.read_value(key)
            totals.write_value(key, total + value, timestamp)
    finally:
        totals.close()


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user's
    return True


@contextlib.contextmanager
def _folder_lock(folder: Path, kind: int) -> Iterator[None]:
    with (folder / "folding.lock").open("a") as lock:
        fcntl.flock(lock, kind)
        yield
