"""How the service runs in production: gunicorn's settings, and the load test against a live service."""

import gc
import hashlib
import json
import os
import runpy
import types

import pytest

from {{ cookiecutter.package_name }} import (
    loadtest,
)
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.models.model import (
    ModelError,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ENV_PREFIX,
)


@pytest.fixture
def gunicorn_settings(monkeypatch, config_path):
    """gunicorn.conf.py evaluated as gunicorn does, from the project folder, under given environment overrides."""

    def load(**env):
        monkeypatch.chdir(config_path.parents[1])
        for key, value in env.items():
            monkeypatch.setenv(ENV_PREFIX + key, value)
        return runpy.run_path("gunicorn.conf.py")

    return load


def test_gunicorn_binds_and_times_out_as_configured(gunicorn_settings, make_config):
    settings = gunicorn_settings(SERVER__PORT="9123", SERVER__WORKERS="3")
    server = make_config().server
    assert settings["bind"] == [f"{server.host}:9123"]
    assert settings["workers"] == 3
    assert settings["timeout"] == server.timeout_seconds
    assert settings["graceful_timeout"] == server.graceful_timeout_seconds


def test_gunicorn_loads_the_model_once_in_the_master(gunicorn_settings):
    settings = gunicorn_settings()
    assert settings["preload_app"] is True
    assert settings["wsgi_app"] == "{{ cookiecutter.package_name }}.api.app:create_app()"


def test_the_master_freezes_its_objects_before_each_fork(gunicorn_settings):
    """Frozen objects are out of the collector's reach: a worker's collections leave their pages shared."""
    gc.unfreeze()
    try:
        gunicorn_settings()["pre_fork"](server=None, worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_each_worker_readies_the_model_after_the_fork_and_refuses_to_boot_without(
    gunicorn_settings, make_config, copy_model, tmp_path
):
    artifact = copy_model(tmp_path / "model.skops")
    broken = b"not an onnx model"
    artifact.with_suffix(".onnx").write_bytes(broken)
    metadata = json.loads(artifact.with_suffix(".json").read_text())
    metadata["onnx_sha256"] = hashlib.sha256(broken).hexdigest()
    artifact.with_suffix(".json").write_text(json.dumps(metadata))
    onnx_model = {"artifact_path": str(artifact), "runtime": "onnx"}  # whatever the config says
    app = create_app(make_config(model=onnx_model))  # the master: no onnxruntime yet
    worker = types.SimpleNamespace(wsgi=app)  # what gunicorn hands the hook: the worker and its app
    with pytest.raises(ModelError, match=r"not a loadable ONNX model"):
        gunicorn_settings()["post_worker_init"](worker)


def test_gunicorn_runs_one_worker_per_usable_cpu_by_default(gunicorn_settings):
    assert gunicorn_settings()["workers"] == len(os.sched_getaffinity(0))


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
