"""Shared fixtures: one small real model trained per test session, and apps built around it."""

import argparse
import shutil
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

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
{%- if cookiecutter.example_task == "text" %}
# The text model is saved without an ONNX copy (models/classifier.py says why).
ARTIFACT_SUFFIXES = (".skops", ".json")
{%- else %}
ARTIFACT_SUFFIXES = (".skops", ".onnx", ".json")
{%- endif %}


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


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


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
