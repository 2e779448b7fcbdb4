"""Shared fixtures: one small real model trained per test session, apps built around it, and the task's example.

The tests outside test_task.py ask the task (task.py) for what they send, so they hold for any task;
test_task.py holds what is true of this task only.
"""

import argparse
import itertools
import json
import os
{% if cookiecutter.include_web_ui -%}
import re
{% endif -%}
import shutil
import socket
import threading
{% if cookiecutter.include_web_ui -%}
from html import unescape
{% endif -%}
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
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
def has_onnx_copy(config):
    """Whether training kept an ONNX copy of the session's model, as its metadata records: a task that exports one
    (task.ONNX_EXPORT) still gets none when skl2onnx cannot reproduce its Pipeline (an estimator of one's own)."""
    metadata = json.loads(Path(config.model.artifact_path).with_suffix(".json").read_text())
    return metadata["onnx_sha256"] is not None


@pytest.fixture(scope="session")
def copy_model(config, has_onnx_copy):
    """copy_model(target) copies what training wrote for the session's model (its artifact, its metadata, and its
    ONNX copy if it has one) to `target` (a .skops path)."""

    def copy(target):
        source = Path(config.model.artifact_path)
        for suffix in [".skops", ".json", *([".onnx"] if has_onnx_copy else [])]:
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
def document(client):
    """The service's OpenAPI document, as a client reads it."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def schema_validator(document):
    """schema_validator(name) -> a JSON Schema (2020-12, OpenAPI 3.1's dialect) validator of the document's
    components/schemas/<name>, its $refs resolved within the document."""

    def validator(name: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})

    return validator


@pytest.fixture
def schema_disagreements(client, schema_validator):
    """schema_disagreements({case: body}) -> the cases where the document's PredictRequest and POST /predict
    disagree: valid by the schema but refused, or answered 200 but invalid. Any refusal must be a 4xx."""

    def disagreements(bodies: dict) -> list[tuple[str, int]]:
        validator, found = schema_validator("PredictRequest"), []
        for case, body in bodies.items():
            status = client.post("/predict", data=json.dumps(body), content_type="application/json").status_code
            assert status == 200 or 400 <= status < 500, (case, status)
            if validator.is_valid(body) != (status == 200):
                found.append((case, status))
        return found

    return disagreements


@pytest.fixture
def app(config):
    return create_app(config)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def production_app(make_config, config, monkeypatch):
    """The app as production runs it: environment production, a strong SECRET_KEY, one trusted host; API keys
    left to a proxy (server.require_api_keys: false), as test_auth.py's keyed apps do not."""
    monkeypatch.setenv("SECRET_KEY", os.urandom(32).hex())
    model = {"artifact_path": config.model.artifact_path}
    server = {"trusted_hosts": ["api.example.com"], "require_api_keys": False}
    return create_app(make_config(environment="production", model=model, server=server))


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


class Protocol:
    """Requests of the Open Inference Protocol (/v2) for the served model, built as its own metadata
    (GET /v2/models/<name>) says: rows of numbers are FP64 of shape [rows, features], texts BYTES of shape [rows]
    (or [rows, 1] nested); and what it must answer to them."""

    INPUT = "input-0"
    DROP = object()  # a tensor field left out

    def __init__(self, model, config, example):
        self.model = model
        self.name, self.version = config.model.name, config.model.version
        self.infer = f"/v2/models/{self.name}/infer"
        # Two different items of the example's kind: the example, and its first half (a text) or double (a row).
        second = example[: len(example) // 2] if isinstance(example, str) else [value * 2 for value in example]
        self.items = [example, second]

    def body(self, items, nested=True, **changes) -> dict:
        """A request of one input tensor holding `items`, data nested by the shape ([rows, features] of numbers,
        [rows, 1] of texts) or flat in row-major order with the metadata's shape ([rows, features], or [rows]);
        `changes` replace the tensor's fields, or (DROP) leave them out."""
        metadata = self.model.inputs.v2_metadata()
        rows = [item if isinstance(item, list) else [item] for item in items]
        if nested:
            shape, data = [len(rows), len(rows[0])], rows
        else:
            shape = [len(rows) if size == -1 else size for size in metadata["shape"]]
            data = list(itertools.chain.from_iterable(rows))
        tensor = {"name": self.INPUT, "shape": shape, "datatype": metadata["datatype"], "data": data, **changes}
        return {"inputs": [{field: value for field, value in tensor.items() if value is not self.DROP}]}

    def outputs(self, answer: dict) -> list[dict]:
        """The outputs that carry what POST /predict answered, as the model's metadata names and shapes them.
        An output takes the answer's field of its name (probabilities), else its predictions."""
        rows = len(answer["predictions"])
        return [
            {
                "name": output["name"],
                "shape": [rows if size == -1 else size for size in output["shape"]],
                "datatype": output["datatype"],
                "data": _flat(answer.get(output["name"], answer["predictions"])),
            }
            for output in self.model.outputs.v2_metadata()
        ]

    @staticmethod
    def error(response, status: int) -> str:
        """The error's message, after checking the protocol's shape, {"error": "<message>"}, and no traceback."""
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.is_json
        body = response.get_json()
        assert list(body) == ["error"]
        assert isinstance(body["error"], str)
        assert body["error"]
        assert "Traceback" not in body["error"]
        return body["error"]


def _flat(values: list) -> list:
    return list(itertools.chain.from_iterable(values)) if values and isinstance(values[0], list) else values


@pytest.fixture
def v2(model, config, example):
    """/v2 requests for the served model and the answers they must get (see Protocol)."""
    return Protocol(model, config, example)
{%- if cookiecutter.include_web_ui %}


class Page:
    """The model card page (GET /, POST /) driven and read as a browser does: form posts with the session's token,
    and what the page shows (flashed problems, the prediction, the form's values, the history)."""

    HOSTILE = '<script>alert("x")</script>'  # typed or trained into a name: shown escaped, never run
    HOSTILE_SHOWN = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"

    @staticmethod
    def fields(inputs, item) -> dict[str, str]:
        """The page's fields (its token aside) as a browser sends them for one item of the API: a row of numbers
        as one text per feature, a text as the textarea's."""
        if isinstance(item, list):
            return dict(zip(inputs.feature_names, map(str, item), strict=True))
        return {"text": item}

    @staticmethod
    def text(response) -> str:
        return response.get_data(as_text=True)

    @classmethod
    def token_in(cls, response) -> str:
        """The token a page carries in its form."""
        return re.search(r'name="csrf_token" value="([^"]+)"', cls.text(response)).group(1)

    @classmethod
    def csrf_token(cls, client) -> str:
        """The token the page gives this client (its first GET / starts its session)."""
        return cls.token_in(client.get("/"))

    @classmethod
    def post(cls, client, fields: dict, token=None, **changes):
        """POST / with the page's token and `fields`; `changes` replace or (None) drop fields."""
        form = {"csrf_token": token or cls.csrf_token(client), **fields, **changes}
        return client.post("/", data={name: value for name, value in form.items() if value is not None})

    @classmethod
    def flashed(cls, response) -> list[str]:
        found = re.findall(r'<p class="flash error" role="alert">(.*?)</p>', cls.text(response))
        return [unescape(shown) for shown in found]

    @classmethod
    def prediction(cls, response) -> str | None:
        found = re.search(r'<output id="prediction">(.*?)</output>', cls.text(response))
        return unescape(found.group(1)) if found else None

    @classmethod
    def form_values(cls, response) -> dict[str, str]:
        """The values the page's form fields hold (its token aside), by field name."""
        page = cls.text(response)
        fields = re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', page)
        fields += re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>\n(.*?)</textarea>', page, re.DOTALL)
        return {unescape(name): unescape(value) for name, value in fields}

    @classmethod
    def history(cls, response) -> list[list[str]]:
        """The history table's rows, newest first: each row's cells, the prediction last."""
        table = re.search(r'<table id="history">.*?<tbody>(.*?)</tbody>', cls.text(response), re.DOTALL).group(1)
        return [
            [unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
        ]


@pytest.fixture(scope="session")
def page():
    """The page's helpers (see Page): page.post(client, fields), page.flashed(response), ..."""
    return Page


@pytest.fixture
def page_form(model, example):
    """The page's fields for the example, as a browser sends them."""
    return Page.fields(model.inputs, example)
{%- endif %}
