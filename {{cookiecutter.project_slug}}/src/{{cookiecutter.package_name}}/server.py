"""The production server (`python -m <package> serve`): granian runs the app, every setting from config.

granian's HTTP layer is Rust: it keeps connections alive, holds idle and slow connections without
a Python thread, and closes a connection that takes longer than server.header_timeout_seconds to
send its headers; rsgi_bridge.py gives the body server.body_timeout_seconds (README.md, "The
server (granian)", says why this server and what it measured).
The main process builds the app once (the model loaded and verified: a bad one refuses to start)
and forks the workers, which share its memory copy-on-write; each worker readies the model's
runtime after the fork, and a worker that dies is replaced. SIGHUP reloads the model with no
request lost: README.md, "Reloading the model".
"""

{% if cookiecutter.enable_metrics -%}
import atexit
{% endif -%}
import gc
import logging
import multiprocessing
import os
{%- if cookiecutter.enable_metrics %}
import shutil
{%- endif %}
import socket
import sys
{%- if cookiecutter.enable_metrics %}
import tempfile
{%- endif %}
from collections.abc import Callable
{%- if cookiecutter.enable_metrics %}
from pathlib import Path
{%- endif %}

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import MPServer, MTServer, Server

from .models.model import ModelError
from .rsgi_bridge import RsgiBridge
from .utils.helpers import Config, ServerConfig

log = logging.getLogger(__name__)

# granian's own messages go to the root logger, which writes JSON lines (utils/helpers.py).
GRANIAN_LOGGING = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}


def serve(config: Config) -> None:
    """Build the app in this process, then serve it from forked workers until SIGTERM or SIGINT."""
    check_port_is_free(config.server)
{%- if cookiecutter.enable_metrics %}
    use_private_metrics_folder()
{%- endif %}
    from .api.app import create_app

    app = create_app(config)
    # Python's gc docs, before fork(): move the app's objects out of the collector's reach, so that
    # collections in the workers do not write to their pages, which then stay shared.
    gc.freeze()
    # Workers must be forked (Python 3.14 defaults to forkserver) to inherit the app built here.
    multiprocessing.set_start_method("fork", force=True)
    server = granian(config)
    # SIGHUP: granian calls this in the main process, then replaces the workers one at a time (a new one
    # first), forked from it with the model it now holds; a model that fails verification leaves the old.
    server.on_reload(app.extensions["model_slot"].reload)
    # granian types the loader's result as a callable (an ASGI or WSGI app); RSGI serves any object with __rsgi__.
    server.serve(target_loader=worker_app(app, config.server), wrap_loader=False)  # type: ignore[arg-type]


def granian(config: Config) -> MPServer | MTServer:
    """granian's settings, all read from config.server (config/config.yaml explains each)."""
    server = config.server
    return Server(
        "",  # the app comes from worker_app, not from an import path
        address=server.host,
        port=server.port,
        interface=Interfaces.RSGI,  # rsgi_bridge.py serves the Flask app through it
        http=HTTPModes.http1,  # what proxies and load balancers speak to a service behind them
        websockets=False,
        workers=worker_count(server),
        backpressure=server.max_connections_per_worker,
        http1_settings=HTTP1Settings(header_read_timeout=server.header_timeout_seconds * 1000),
        respawn_failed_workers=True,
        workers_kill_timeout=server.graceful_timeout_seconds,
        workers_lifetime=server.worker_lifetime_seconds,
        log_level=LogLevels(config.logging.level.lower()),
        log_dictconfig=GRANIAN_LOGGING,
        log_access=False,  # the app writes the access log: one JSON line per request, with its request id
    )


def worker_app(app: Flask, server: ServerConfig) -> Callable[[], RsgiBridge]:
    """What each worker runs first, after the fork: ready the model's runtime, then serve `app`."""

    def load() -> RsgiBridge:
        try:
            app.extensions["model_slot"].warm_up()
        except ModelError as error:
            # One line, then exit: granian replaces the worker once, and stops when it fails again.
            log.error("worker cannot serve the model", extra={"reason": str(error)})
            sys.exit(1)
{%- if cookiecutter.enable_metrics %}
        from .api import metrics

        metrics.forget_dead_processes()
{%- endif %}
        return RsgiBridge(app, server.body_timeout_seconds, server.max_request_bytes)

    return load


def check_port_is_free(server: ServerConfig) -> None:
    """An OSError (EADDRINUSE) if another process has the port: granian would say so with a Rust backtrace,
    after the model had loaded; the command line prints this one line, and a hint."""
    family, kind, protocol, _, address = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as granian binds: past TIME_WAIT
        probe.bind(address)


def worker_count(server: ServerConfig) -> int:
    """server.workers, or one worker per CPU this process may use: predictions are CPU-bound."""
    return server.workers or len(os.sched_getaffinity(0))
{%- if cookiecutter.enable_metrics %}


def use_private_metrics_folder() -> None:
    """A new folder for this run's per-process metric files, removed when the main process exits.

    It must be set before anything imports prometheus_client, which reads it then; in /dev/shm
    (memory) where there is one, not on a container's disk."""
    shared_memory = Path("/dev/shm")  # noqa: S108 -- a private folder made by mkdtemp, not a fixed name
    folder = tempfile.mkdtemp(prefix="metrics-", dir=shared_memory if shared_memory.is_dir() else None)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # forked workers leave by os._exit: never run there
{%- endif %}
