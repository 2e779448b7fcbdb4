"""Shared fixtures: one small real model trained per test session, apps built around it, and the task's example.

The tests outside test_task.py ask the task (task.py) for what they send, so they hold for any task;
test_task.py holds what is true of this task only.
"""

import argparse
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from {{ cookiecutter.package_name }} import (
    task,
)
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.cli import (
    train_command,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    load_config,
)

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
# What training writes: the artifact, its metadata, and the ONNX copy when the task has one.
ARTIFACT_SUFFIXES = (".skops", ".json", *([".onnx"] if task.ONNX_EXPORT else []))


@pytest.fixture(scope="session")
def config_path():
    return CONFIG_PATH


@pytest.fixture(scope="session")
def make_config():
    """Build the project's real config with overrides, ignoring the caller's environment."""

    def make(env=None, **overrides):
        return load_config(CONFIG_PATH, env=env or {}, overrides=overrides)

    return make


@pytest.fixture(scope="session")
def config(make_config, tmp_path_factory):
    """The default config, its model trained into a temporary folder once per session."""
    artifact = tmp_path_factory.mktemp("model") / "model.skops"
    trained = make_config(model={"artifact_path": str(artifact)})
    train_command(trained, argparse.Namespace(if_missing=False))
    return trained


@pytest.fixture(scope="session")
def copy_model(config):
    """copy_model(target) copies the session's trained artifacts and metadata to `target` (a .skops path)."""

    def copy(target):
        source = Path(config.model.artifact_path)
        for suffix in ARTIFACT_SUFFIXES:
            shutil.copy(source.with_suffix(suffix), Path(target).with_suffix(suffix))
        return target

    return copy


@pytest.fixture(scope="session")
def example():
    """One item as a request carries it: the task's example (a row of numbers, a text, ...)."""
    return task.EXAMPLE


@pytest.fixture(scope="session")
def one(example):
    """The body of a request for the example alone, e.g. {"features": [...]}."""
    return {task.INPUTS.single: example}


@pytest.fixture(scope="session")
def items(config):
    """About 30 items spread over the task's data (for a classifier, more than one class), as a batch sends them."""
    features = task.load_dataset(config.data).features
    return features[:: max(1, len(features) // 30)].tolist()


@pytest.fixture
def answer(client, items):
    """The API's answer to a batch of `items`."""
    response = client.post("/predict", json={"instances": items})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def model(app):
    """The model the app loaded, with its input and output kinds."""
    return app.extensions["model_slot"].model


@pytest.fixture
def live_port(app):
    """The app served on a loopback port by a real (werkzeug) server in a thread."""
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


@pytest.fixture
def dead_port():
    """A loopback port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def assert_error():
    """assert_error(response, status, code) -> the error body, after checking what every error must be:
    one JSON shape, naming its request, never carrying a traceback."""
    return check_error


def check_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error
