"""A small load test for a running service (`make loadtest`, or this module with --help).

It sends the task's own example (task.EXAMPLE) with the standard library's HTTP client, one new
connection per request (the costlier case for a server), a fixed number of requests from a
few threads: requests per second, latency percentiles, and every answer that was not a 200. Aim it
only at a server you run.
"""

import argparse
import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from .task import EXAMPLE, INPUTS


def run(url: str, requests: int, concurrency: int, batch: int) -> dict[str, Any]:
    """POST `requests` predictions of `batch` items (the task's example) each to `url`/predict; return the figures."""
    target = urlsplit(url)
    host = target.hostname
    if not host:  # e.g. "localhost:8000", which reads as a scheme
        raise ValueError(f"{url}: the URL names no host; give one such as http://127.0.0.1:8000")
    body = json.dumps({"instances": [EXAMPLE] * batch} if batch > 1 else {INPUTS.single: EXAMPLE})
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def one(_index: int) -> None:
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, target.port or 80, timeout=30)
        try:
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            outcome = str(response.status)
        except (OSError, http.client.HTTPException) as error:
            outcome = type(error).__name__
        finally:
            connection.close()
        with lock:
            latencies.append(time.perf_counter() - started)
            outcomes[outcome] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - started
    percentiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "requests_per_second": round(requests / elapsed, 1),
        "rows_per_second": round(requests * batch / elapsed, 1),
        "p50_ms": round(percentiles[49] * 1000, 2),
        "p99_ms": round(percentiles[98] * 1000, 2),
        "outcomes": dict(outcomes),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="{{ cookiecutter.package_name }}.loadtest",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service (%(default)s)")
    parser.add_argument("--requests", type=int, default=2000, help="how many requests (%(default)s)")
    parser.add_argument("--concurrency", type=int, default=8, help="threads sending them (%(default)s)")
    parser.add_argument("--batch", type=int, default=1, help="items per request (%(default)s)")
    args = parser.parse_args(argv)
    figures = run(args.url, args.requests, args.concurrency, args.batch)
    print(json.dumps(figures, indent=2))
    return 0 if set(figures["outcomes"]) == {"200"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
