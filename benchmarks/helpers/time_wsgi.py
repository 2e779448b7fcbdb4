"""Run in the project's venv, from the project folder: the app's own time per single-row request.

    BARE_ONNX_PATH=models/model.onnx PYTHONPATH=<benchmarks> python time_wsgi.py PACKAGE REQUESTS
    -> prints {"hello": µs, "bare-onnx": µs, "ours": µs}

Each app is called as a WSGI server calls it (a prepared environ, the body in wsgi.input), with no
socket, HTTP parsing or load generator: what is left is the app's own work per request. "ours"
is built as gunicorn builds it (config/config.yaml, metrics in a multiprocess folder); its access
log goes to /dev/null. The median of five timings of REQUESTS requests each, after a warm-up.
"""

import contextlib
import importlib
import io
import json
import os
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

BODY = b'{"features": [5.1, 3.5, 1.4, 0.2]}'
TIMINGS = 5


def environ() -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/predict",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def answer(app) -> bytes:
    statuses = []
    body = b"".join(app(environ(), lambda status, _headers, _exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{app.name}: {statuses[0]} {body[:300]!r}")
    return body


def microseconds_per_request(app, requests: int) -> float:
    for _ in range(100):
        answer(app)
    timings = [timeit.timeit(lambda: answer(app), number=requests) / requests for _ in range(TIMINGS)]
    return statistics.median(timings) * 1e6


def main() -> None:
    package, requests = sys.argv[1], int(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="metrics-") as metrics, Path(os.devnull).open("w") as sink:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics  # before anything imports prometheus_client
        ours = importlib.import_module(f"{package}.api.app").create_app()
        ours.extensions["model_slot"].warm_up()
        apps = {
            "hello": importlib.import_module("apps.hello").app,
            "bare-onnx": importlib.import_module("apps.bare_onnx").app,
            "ours": ours,
        }
        with contextlib.redirect_stderr(sink):  # the access log's lines
            timings = {name: microseconds_per_request(app, requests) for name, app in apps.items()}
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
