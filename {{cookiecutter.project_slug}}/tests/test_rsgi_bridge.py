"""rsgi_bridge.py under granian itself (its embedded server: the Rust HTTP layer the production workers run, here
in this process): the app answers through it as it does directly, a body has a deadline, and a size limit."""

import asyncio
import http.client
import json
import socket
import threading
import time

import pytest
from granian.constants import HTTPModes, Interfaces
from granian.server.embed import Server

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.rsgi_bridge import (
    RsgiBridge,
)

BODY_TIMEOUT_SECONDS = 1


@pytest.fixture(scope="module")
def bridge_port(config):
    """A loopback port where granian serves the app through the bridge, as a production worker does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bridge = RsgiBridge(create_app(config), BODY_TIMEOUT_SECONDS, config.server.max_request_bytes)
    server = Server(bridge, address="127.0.0.1", port=port, interface=Interfaces.RSGI, http=HTTPModes.http1)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    yield port
    loop.call_soon_threadsafe(server.stop)
    thread.join(timeout=10)


def send(port, method, path, body=None, headers=None):
    """One request over a new connection: (status, headers, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/predict?explain=1", "json"),
        ("POST", "/predict", "text"),
        ("GET", "/caf%C3%A9/%2e%2e?q=%20", None),
        ("GET", "/health", None),
        ("DELETE", "/predict", None),
    ],
    ids=["predict-with-query", "predict-not-json", "percent-encoded-path", "health", "wrong-method"],
)
def test_the_app_answers_through_the_bridge_as_it_does_directly(bridge_port, client, one, method, path, kind):
    headers = {"X-Request-ID": "bridge-test-1"}
    body = None
    if kind:
        headers["Content-Type"] = "application/json" if kind == "json" else "text/plain"
        body = json.dumps(one).encode()
    status, answered_headers, content = send(bridge_port, method, path, body, headers)
    direct = client.open(path, method=method, data=body, headers=headers)
    assert status == direct.status_code
    assert json.loads(content) == direct.get_json()
    for name in ("Content-Type", "X-Request-ID", "Allow", "Content-Security-Policy"):
        assert answered_headers.get(name) == direct.headers.get(name), name


def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_is_closed(bridge_port):
    connection = socket.create_connection(("127.0.0.1", bridge_port), timeout=10)
    started = time.monotonic()
    connection.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n")
    connection.sendall(b"Content-Length: 100\r\n\r\n{")  # then nothing more
    answer = b""
    while chunk := connection.recv(65536):  # until the server closes the connection
        answer += chunk
    connection.close()
    assert BODY_TIMEOUT_SECONDS <= time.monotonic() - started < BODY_TIMEOUT_SECONDS + 2
    head, _, content = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(content)["error"]["code"] == "request_timeout"


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_a_body_over_the_size_limit_gets_413(bridge_port, config, declared):
    body = b" " * (config.server.max_request_bytes + 1)
    headers = {"Content-Type": "application/json"}
    if not declared:
        body = iter([body])  # no length: http.client sends an iterable with Transfer-Encoding: chunked
    status, _, content = send(bridge_port, "POST", "/predict", body, headers)
    assert (status, json.loads(content)["error"]["code"]) == (413, "payload_too_large")
