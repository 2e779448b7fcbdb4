"""Runs the Flask (WSGI) app under granian's RSGI interface, so that request bodies have a deadline.

granian's WSGI interface reads a body only when the app asks, on a Python thread, with no timeout:
a few hundred clients that send their bodies slowly would hold every thread. Here each worker
reads the whole body first, asynchronously (a slow client holds no thread), for at most
server.body_timeout_seconds, then calls the app with it, one request at a time: predictions are
CPU-bound, so more threads would only take turns at the GIL. README.md, "The server", has the figures.
"""

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from granian.rsgi import HTTPProtocol, Scope  # type: ignore[attr-defined]  # granian re-exports it unmarked
from werkzeug.exceptions import RequestTimeout

WsgiHeaders = list[tuple[str, str]]


class RsgiBridge:
    """An RSGI application (granian calls `__rsgi__` for every request) that serves a WSGI app."""

    def __init__(self, app: Flask, body_timeout_seconds: float, max_body_bytes: int):
        self.app = app
        self.body_timeout_seconds = body_timeout_seconds
        self.max_body_bytes = max_body_bytes

    async def __rsgi__(self, scope: Scope, protocol: HTTPProtocol) -> None:
        try:
            async with asyncio.timeout(self.body_timeout_seconds):
                body: io.IOBase = io.BytesIO(await read_body(scope, protocol, self.max_body_bytes))
        except TimeoutError:
            body = TimedOutBody()  # the app answers 408 when it reads it
        status, headers, content = call_wsgi(self.app, wsgi_environ(scope, body))
        protocol.response_bytes(status, headers, content)


async def read_body(scope: Scope, protocol: HTTPProtocol, max_bytes: int) -> bytes:
    """The body, or its first max_bytes + 1 bytes or more when it is larger: enough for the app to answer 413.

    The rest of a body that is too large is read and dropped: a client still sending when the answer
    comes and the connection closes would see a broken connection instead of the 413."""
    declared = scope.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) <= max_bytes:
        return await protocol()  # the common case: one read, of at most the declared length
    kept, size = [], 0
    async for chunk in protocol:  # chunked, or declared too large
        if size <= max_bytes:
            kept.append(chunk)
        size += len(chunk)
    return b"".join(kept)


class TimedOutBody(io.RawIOBase):
    """The body of a request whose client did not send it in time: reading it is a 408."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise RequestTimeout("the request body did not arrive within server.body_timeout_seconds")


def wsgi_environ(scope: Scope, body: io.IOBase) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) for an RSGI request scope."""
    server_host, _, server_port = scope.server.rpartition(":")
    client_host, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # RSGI gives the path percent-decoded as text; WSGI wants its UTF-8 bytes as Latin-1 text.
        "PATH_INFO": scope.path.encode().decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host.strip("[]"),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host.strip("[]"),
        "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": body,
        "wsgi.input_terminated": True,  # the whole body is here: no Content-Length needed to read it
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = WSGI_HEADER_KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


WSGI_HEADER_KEYS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def call_wsgi(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[int, WsgiHeaders, bytes]:
    """Call a WSGI app: its status code, headers and whole body."""
    started: list[Any] = []

    def start_response(status: str, headers: WsgiHeaders, exc_info: object = None) -> None:
        started[:] = [int(status[:3]), headers]

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()  # PEP 3333: lets Flask run its teardown
    return started[0], started[1], content
