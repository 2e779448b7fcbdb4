"""How the service runs in production: the server's settings, its workers, its metrics files, and the load test."""

import argparse
import hashlib
import json
import os
{%- if cookiecutter.enable_metrics %}
import subprocess
import sys
{%- endif %}

import pytest
{%- if cookiecutter.enable_metrics %}
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.mmap_dict import MmapedDict, mmap_key
{%- endif %}

from {{ cookiecutter.package_name }} import (
    loadtest,
)
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
{%- if cookiecutter.enable_metrics %}
from {{ cookiecutter.package_name }}.api.metrics import (
    forget_dead_processes,
)
{%- endif %}
from {{ cookiecutter.package_name }}.cli import (
    train_command,
)
from {{ cookiecutter.package_name }}.server import (
    granian,
    worker_app,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ENV_PREFIX,
)


def test_granian_takes_every_setting_from_config_and_its_environment_overrides(make_config):
    settings = {
        "PORT": "9123",
        "WORKERS": "3",
        "MAX_CONNECTIONS_PER_WORKER": "100",
        "HEADER_TIMEOUT_SECONDS": "7",
        "BODY_TIMEOUT_SECONDS": "9",
        "GRACEFUL_TIMEOUT_SECONDS": "4",
        "WORKER_LIFETIME_SECONDS": "3600",
    }
    config = make_config(env={f"{ENV_PREFIX}SERVER__{key}": value for key, value in settings.items()})
    server = granian(config)
    assert (server.bind_addr, server.bind_port) == (config.server.host, 9123)
    assert (server.workers, server.backpressure) == (3, 100)
    assert server.http1_settings.header_read_timeout == 7000  # milliseconds
    assert config.server.body_timeout_seconds == 9  # rsgi_bridge.py's (test_a_worker_serves_...)
    assert server.http1_settings.keep_alive is True
    assert (server.workers_kill_timeout, server.workers_lifetime) == (4, 3600)
    assert server.respawn_failed_workers is True
    assert server.interface == "rsgi"  # the Flask app through rsgi_bridge.py
    assert server.http == "1"
    assert server.log_access is False  # the app writes the access log


def test_granian_runs_one_worker_per_usable_cpu_by_default(make_config):
    assert granian(make_config()).workers == len(os.sched_getaffinity(0))


def test_each_worker_readies_the_model_after_the_fork_and_exits_without(make_config, copy_model, tmp_path, caplog):
    artifact = copy_model(tmp_path / "model.skops")
    broken = b"not an onnx model"
    artifact.with_suffix(".onnx").write_bytes(broken)
    metadata = json.loads(artifact.with_suffix(".json").read_text())
    metadata["onnx_sha256"] = hashlib.sha256(broken).hexdigest()
    artifact.with_suffix(".json").write_text(json.dumps(metadata))
    onnx_model = {"artifact_path": str(artifact), "runtime": "onnx"}  # whatever the config says
    onnx_config = make_config(model=onnx_model)
    app = create_app(onnx_config)  # the main process: no onnxruntime yet
    with pytest.raises(SystemExit) as exited:
        worker_app(app, onnx_config.server)()  # what a worker runs first
    assert exited.value.code == 1
    assert "not a loadable ONNX model" in caplog.records[-1].reason


def test_a_reload_serves_the_new_verified_model(make_config, copy_model, config, tmp_path, caplog):
    artifact = copy_model(tmp_path / "model.skops")
    app = create_app(make_config(model={"artifact_path": str(artifact)}))
    old = app.extensions["model_slot"].model
    newer = make_config(model={"artifact_path": str(artifact), "version": "9.9.9"})
    train_command(newer, argparse.Namespace(if_missing=False))
    app.extensions["model_slot"].reload()
    client = app.test_client()
    assert client.get("/model").get_json()["version"] == "9.9.9"
    assert client.get("/ready").status_code == 200
    assert app.extensions["model_slot"].model is not old
    assert caplog.records[-1].message == "model loaded"


@pytest.mark.parametrize("damage", ["tampered", "missing metadata"])
def test_a_reload_refuses_a_bad_artifact_and_keeps_serving_the_old_model(
    make_config, copy_model, tmp_path, caplog, damage
):
    artifact = copy_model(tmp_path / "model.skops")
    app = create_app(make_config(model={"artifact_path": str(artifact)}))
    served = app.extensions["model_slot"].model
    if damage == "tampered":
        artifact.write_bytes(artifact.read_bytes() + b"tampered")
    else:
        artifact.with_suffix(".json").unlink()
    app.extensions["model_slot"].reload()
    assert app.extensions["model_slot"].model is served
    assert app.test_client().get("/ready").status_code == 200
    refused = caplog.records[-1]
    assert refused.message == "new model refused, the old one still serves"
    assert refused.version == served.version
    assert "sha256 does not match" in refused.reason if damage == "tampered" else "does not exist" in refused.reason


{% if cookiecutter.enable_metrics -%}
def test_a_worker_serves_the_app_its_main_process_built(app, config, monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # as server.serve sets it
{%- else -%}
def test_a_worker_serves_the_app_its_main_process_built(app, config):
{%- endif %}
    bridge = worker_app(app, config.server)()
    assert bridge.app is app
    assert (bridge.body_timeout_seconds, bridge.max_body_bytes) == (
        config.server.body_timeout_seconds,
        config.server.max_request_bytes,
    )
{%- if cookiecutter.enable_metrics %}


def counter_file(folder, pid, value):
    """What prometheus_client's multiprocess mode writes for one process: a counter of requests."""
    values = MmapedDict(str(folder / f"counter_{pid}.db"))
    key = mmap_key("http_requests", "http_requests_total", ["route"], ["/predict"], "Requests")
    values.write_value(key, value, 0.0)
    values.close()


def exited_pid():
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(process.stdout)


def test_a_new_worker_folds_the_metrics_files_of_dead_ones_into_one(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    first_dead, second_dead = exited_pid(), exited_pid()
    counter_file(tmp_path, first_dead, 3)
    counter_file(tmp_path, second_dead, 4)
    counter_file(tmp_path, os.getpid(), 5)  # alive: left as it is
    (tmp_path / f"gauge_livemax_{first_dead}.db").write_bytes(b"")

    def exposed():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, str(tmp_path))
        return generate_latest(registry).decode()

    forget_dead_processes()
    assert {path.name for path in tmp_path.glob("*.db")} == {"counter_dead.db", f"counter_{os.getpid()}.db"}
    assert 'http_requests_total{route="/predict"} 12.0' in exposed()
    third_dead = exited_pid()
    counter_file(tmp_path, third_dead, 1)
    forget_dead_processes()  # the next new worker adds to the same sums
    assert 'http_requests_total{route="/predict"} 13.0' in exposed()
{%- endif %}


def test_the_load_test_reports_figures_from_a_live_service(live_port, capsys):
    url = f"http://127.0.0.1:{live_port}"
    assert loadtest.main(["--url", url, "--requests", "40", "--concurrency", "4", "--batch", "3"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["outcomes"] == {"200": 40}
    assert figures["rows_per_second"] == pytest.approx(figures["requests_per_second"] * 3, rel=0.01)
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert loadtest.run(url, 4, 2, 1)["outcomes"] == {"200": 4}  # one item a request: {"<single>": example}


def test_the_load_test_fails_when_requests_fail(dead_port):
    url = f"http://127.0.0.1:{dead_port}"
    assert loadtest.run(url, 3, 1, 1)["outcomes"] == {"ConnectionRefusedError": 3}
    assert loadtest.main(["--url", url, "--requests", "2"]) == 1


def test_the_load_test_refuses_a_url_without_a_host():
    with pytest.raises(ValueError, match="names no host"):
        loadtest.run("localhost:8000", 1, 1, 1)
