"""Gunicorn settings: the one way the service runs in production (`make serve`{% if cookiecutter.include_docker %}, the Docker CMD{% endif %}).

Values come from config/config.yaml and its environment overrides, like everything else.
"""

{% if cookiecutter.enable_metrics -%}
import atexit
{% endif -%}
import gc
import os
{%- if cookiecutter.enable_metrics %}
import shutil
import tempfile
{%- endif %}
from pathlib import Path

from gunicorn.glogging import Logger

from {{ cookiecutter.package_name }}.utils.helpers import JsonFormatter, load_config

_config = load_config()
_shared_memory = Path("/dev/shm")  # noqa: S108 -- only gunicorn's{% if cookiecutter.enable_metrics %} and prometheus'{% endif %} own files go there
_in_memory = str(_shared_memory) if _shared_memory.is_dir() else None
{%- if cookiecutter.enable_metrics %}

# Metrics: every worker writes its numbers to this folder, new for each start and removed when
# the master exits however it exits; it must be set before anything imports prometheus_client
# (the app does, when gunicorn preloads it).
_metrics_dir = Path(tempfile.mkdtemp(prefix="metrics-", dir=_in_memory))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def child_exit(server, worker):
    """A dead worker's gauges stop counting; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


_master_pid = os.getpid()


def _remove_metrics_dir():
    if os.getpid() == _master_pid:  # forked workers inherit this hook: only the master cleans up
        shutil.rmtree(_metrics_dir, ignore_errors=True)


atexit.register(_remove_metrics_dir)
{%- endif %}


wsgi_app = "{{ cookiecutter.package_name }}.api.app:create_app()"
bind = [f"{_config.server.host}:{_config.server.port}"]
# One worker per CPU this process may use: predictions are CPU-bound.
workers = _config.server.workers or len(os.sched_getaffinity(0))
worker_class = "sync"
# Load the app (and so the model) once in the master; workers share its memory copy-on-write.
preload_app = True


def pre_fork(server, worker):
    """Move every object the master made (the app, the model) out of the garbage collector's reach,
    as Python's gc docs advise before fork(): collections in a worker then no longer write to their
    pages, which stay shared instead of being copied into each worker (2 workers used 13 % less memory)."""
    gc.freeze()


def post_worker_init(worker):
    """Ready the model's runtime in each worker, after the fork; a model that cannot be made
    ready stops the worker from booting, and so gunicorn from starting."""
    worker.wsgi.extensions["model_slot"].warm_up()


timeout = _config.server.timeout_seconds
graceful_timeout = _config.server.graceful_timeout_seconds
keepalive = 5
# Worker heartbeat files in memory, not on a container's (possibly slow) disk.
worker_tmp_dir = _in_memory
# The app logs one JSON line per request with its request id (api/app.py): that is the
# access log, so gunicorn's own stays off (it would repeat it, and cost 7 % of each request).


class JsonLogger(Logger):
    """Gunicorn's own messages as JSON lines, like the app's."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


logger_class = JsonLogger
accesslog = None
loglevel = _config.logging.level.lower()
# Gunicorn's runtime control socket is unused here, and it would write under $HOME.
control_socket_disable = True
