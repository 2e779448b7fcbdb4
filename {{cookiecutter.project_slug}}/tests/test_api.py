"""The JSON API, whatever the task: the routes, the shape of every answer and error, the model slot, the logs.

What a request carries and what an answer holds belong to the task: these tests send the task's example
(the `example` and `one` fixtures) and ask the model's own input and output kinds what to expect. How a
kind validates and answers is tested in test_<kind>.py; what is true of this task only, in test_task.py.
"""

import io
import json
import os
import re
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.errors import (
    MAX_DETAILS,
    ApiError,
)
from {{ cookiecutter.package_name }}.models.model import (
    ModelError,
)
from {{ cookiecutter.package_name }}.schemas import (
    refuse,
    v2_tensor,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ConfigError,
)


@pytest.fixture
def answered(app, model):
    """answered(items) -> what the model itself answers for `items`, as the API's JSON writes it."""

    def answer(items):
        prediction = model.predict(model.inputs.validate(items, len(items)))
        return json.loads(app.json.dumps(model.outputs.answer(prediction)))

    return answer


def test_health_answers_without_looking_at_the_model(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_ready_names_the_loaded_model(client, config):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["model"] == {"name": config.model.name, "version": config.model.version}


def test_model_returns_the_saved_metadata(client, config, model):
    """The metadata written beside the artifact, as it is: the feature names the inputs read, the held-out metrics."""
    metadata = client.get("/model").get_json()
    assert metadata == json.loads(Path(config.model.artifact_path).with_suffix(".json").read_text())
    assert metadata["feature_names"] == model.inputs.feature_names
    assert metadata["metrics"]
    assert all(isinstance(score, float) for score in metadata["metrics"].values())


def test_model_leaves_out_how_it_was_built_when_its_details_are_not_public(make_config, config):
    settings = {"model": {"artifact_path": config.model.artifact_path}, "server": {"public_model_details": False}}
    shown = create_app(make_config(**settings)).test_client().get("/model").get_json()
    saved = json.loads(Path(config.model.artifact_path).with_suffix(".json").read_text())
    withheld = {"python_version", "sklearn_version", "skops_version", "artifact_sha256", "hyperparameters"}
    assert withheld <= saved.keys()
    assert not withheld & shown.keys()
    assert (shown["name"], shown["version"], shown["metrics"]) == (saved["name"], saved["version"], saved["metrics"])


@pytest.mark.parametrize("form", ["one", "batch"])
def test_predict_accepts_every_documented_form(client, config, example, one, answered, form):
    """{"<single>": item} and {"instances": [item]} both answer what the model answers, and name the model."""
    payload = one if form == "one" else {"instances": [example]}
    response = client.post("/predict", json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    model = {"name": config.model.name, "version": config.model.version}
    assert response.get_json() == {**answered([example]), "model": model}


def test_predict_answers_a_batch_item_by_item(client, example, one):
    single = client.post("/predict", json=one).get_json()["predictions"]
    batch = client.post("/predict", json={"instances": [example] * 3}).get_json()["predictions"]
    assert batch == single * 3


def test_a_batch_at_the_row_limit_is_answered(client, config, example):
    rows = config.server.max_batch_rows
    response = client.post("/predict", json={"instances": [example] * rows})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"]) == rows


@pytest.mark.parametrize(
    "payload",
    [
        lambda single, item: [item],
        lambda single, item: {"instances": []},
        lambda single, item: {"instances": {single: item}},
        lambda single, item: {"rows": [item]},
        lambda single, item: {single: item, "instances": [item]},
        lambda single, item: "text",
        lambda single, item: None,
    ],
    ids=["top-level-list", "empty-batch", "instances-not-a-list", "unknown-key", "both-keys", "string", "null"],
)
def test_a_body_of_the_wrong_shape_gets_422(client, model, example, assert_error, payload):
    """The message says which keys a body may have, in the input kind's words."""
    body = json.dumps(payload(model.inputs.single, example))
    error = assert_error(client.post("/predict", data=body, content_type="application/json"), 422, "invalid_input")
    assert '"instances"' in error["message"]
    assert "details" not in error


def test_a_batch_with_a_bad_item_in_every_row_lists_only_the_first_problems(client, assert_error):
    """null is an item of no kind; a batch of them is answered with the first MAX_DETAILS problems, in order."""
    error = assert_error(client.post("/predict", json={"instances": [None] * (MAX_DETAILS + 5)}), 422, "invalid_input")
    assert [detail["row"] for detail in error["details"]] == list(range(MAX_DETAILS))
    assert error["message"].startswith("row 0")


def test_malformed_json_gets_400_naming_the_problem(client, one, assert_error):
    body = json.dumps(one)[:-2]
    error = assert_error(client.post("/predict", data=body, content_type="application/json"), 400, "bad_request")
    assert error["message"].startswith("the body is not valid JSON: ")


@pytest.mark.parametrize("depth", [1025, 100_000])
def test_json_nested_too_deeply_gets_400_not_500(client, assert_error, depth):
    """orjson stops at 1024 levels; the standard library, which reads what orjson refuses, would recurse."""
    body = "[" * depth + "]" * depth
    error = assert_error(client.post("/predict", data=body, content_type="application/json"), 400, "bad_request")
    assert error["message"] == "the body is not valid JSON: it is nested too deeply"


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\udc00\\ud800"], ids=["high", "low", "reversed-pair"])
def test_an_unpaired_surrogate_escape_gets_400_not_500(client, assert_error, escape):
    """In a key or a value the answer would quote: no JSON encoder can write a lone surrogate back."""
    for body in ('{"x' + escape + '": 1}', '{"instances": ["' + escape + '"]}'):
        error = assert_error(client.post("/predict", data=body, content_type="application/json"), 400, "bad_request")
        assert error["message"] == (
            "the body is not valid JSON: it holds an unpaired UTF-16 surrogate escape (\\ud800 to \\udfff)"
        )


def test_a_surrogate_pair_escape_is_text(client, assert_error):
    body = '{"x\\ud83d\\ude00": 1}'  # an emoji, escaped: read, then refused for the key it is
    assert_error(client.post("/predict", data=body, content_type="application/json"), 422, "invalid_input")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_gets_415(client, one, assert_error, content_type):
    response = client.post("/predict", data=json.dumps(one), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


# What a server hands the app for a chunked body: no length, and its word that the stream ends with the body.
CHUNKED = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_size_limit_gets_413(make_config, config, example, assert_error, streamed):
    body = json.dumps({"instances": [example] * 2}).encode()
    limit = len(body) - 1  # one byte short, whatever the example's size
    small = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": limit})
    client = create_app(small).test_client()
    if streamed:  # no Content-Length: the server says where the body ends, as rsgi_bridge.py does for a chunked one
        stream = {"input_stream": io.BytesIO(body), "environ_overrides": CHUNKED}
        response = client.post("/predict", content_type="application/json", **stream)
    else:
        response = client.post("/predict", data=body, content_type="application/json")
    assert f"limit of {limit} bytes" in assert_error(response, 413, "payload_too_large")["message"]


def test_a_streamed_body_of_exactly_the_size_limit_is_read(make_config, config, one):
    body = json.dumps(one).encode()
    exact = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": len(body)})
    stream = {"input_stream": io.BytesIO(body), "environ_overrides": CHUNKED}
    response = create_app(exact).test_client().post("/predict", content_type="application/json", **stream)
    assert response.status_code == 200


def test_a_batch_over_the_row_limit_gets_413(client, config, example, assert_error):
    rows = [example] * (config.server.max_batch_rows + 1)
    error = assert_error(client.post("/predict", json={"instances": rows}), 413, "batch_too_large")
    assert str(config.server.max_batch_rows) in error["message"]


def test_a_batch_over_the_row_limit_is_refused_before_its_items_are_read(client, config, assert_error):
    """Counting the rows is cheap, checking them is not: an oversized batch of bad items is still a 413."""
    rows = [None] * (config.server.max_batch_rows + 1)
    assert_error(client.post("/predict", json={"instances": rows}), 413, "batch_too_large")


def test_an_unknown_route_gets_json_404(client, assert_error):
    assert_error(client.get("/nowhere"), 404, "not_found")


def test_a_wrong_method_gets_json_405_with_allow(client, assert_error):
    response = client.get("/predict")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


@pytest.fixture
def unready_client(make_config, tmp_path):
    config = make_config(model={"artifact_path": str(tmp_path / "absent.skops")}, server={"require_model": False})
    return create_app(config).test_client()


@pytest.mark.parametrize(("method", "path"), [("get", "/ready"), ("get", "/model"), ("post", "/predict")])
def test_without_a_model_the_service_is_unready_and_says_why(unready_client, one, assert_error, method, path):
    response = getattr(unready_client, method)(path, json=one if method == "post" else None)
    error = assert_error(response, 503, "model_not_ready")
    assert "absent.skops" in error["message"]


@pytest.mark.parametrize(("retry_seconds", "status"), [(0, 200), (3600, 503)])
def test_an_unready_service_looks_for_the_model_again_after_the_retry_interval(
    make_config, copy_model, tmp_path, retry_seconds, status
):
    artifact = tmp_path / "later.skops"
    server = {"require_model": False, "model_retry_seconds": retry_seconds}
    client = create_app(make_config(model={"artifact_path": str(artifact)}, server=server)).test_client()
    assert client.get("/ready").status_code == 503
    copy_model(artifact)
    assert client.get("/ready").status_code == status


def test_an_unreadable_model_leaves_the_service_unready_and_saying_why(make_config, tmp_path, assert_error):
    """With require_model false, a model that cannot be read is a model not ready, never a crash at start."""
    artifact = tmp_path / "model.skops"
    artifact.mkdir()  # a folder where the file should be
    unready = make_config(model={"artifact_path": str(artifact)}, server={"require_model": False})
    error = assert_error(create_app(unready).test_client().get("/ready"), 503, "model_not_ready")
    assert "model.skops: cannot be read" in error["message"]


def test_without_a_model_liveness_still_answers(unready_client):
    assert unready_client.get("/health").status_code == 200


def test_without_a_model_startup_is_refused_by_default(make_config, tmp_path):
    with pytest.raises(ModelError, match=r"absent.skops"):
        create_app(make_config(model={"artifact_path": str(tmp_path / "absent.skops")}))


def test_an_unexpected_error_gets_a_generic_500_and_a_logged_traceback(config, assert_error, caplog):
    app = create_app(config)

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/explode")
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in json.dumps(error)
    logged = [record for record in caplog.records if record.exc_info]
    assert logged[0].request_id == error["request_id"]


def test_the_app_signs_with_the_environments_secret_key(config, monkeypatch):
    key = os.urandom(16).hex()  # made here, so only the environment can have given it to the app
    monkeypatch.setenv("SECRET_KEY", key)
    assert create_app(config).secret_key == key


def test_the_app_refuses_to_start_in_production_without_a_secret_key(make_config, config, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    production = make_config(environment="production", model={"artifact_path": config.model.artifact_path})
    with pytest.raises(ConfigError, match=r"SECRET_KEY must be set"):
        create_app(production)


@pytest.mark.parametrize("path", ["/health", "//health", "/nowhere"])
def test_production_answers_only_its_trusted_hosts(production_app, assert_error, path):
    """//health would be redirected to the Host it came with: a forged one would be echoed in the Location."""
    client = production_app.test_client()
    response = client.get(path, headers={"Host": "evil.example"})
    assert "server.trusted_hosts does not list" in assert_error(response, 400, "bad_request")["message"]
    assert "Location" not in response.headers
    assert b"evil.example" not in response.data
    assert client.get("/health", headers={"Host": production_app.config["TRUSTED_HOSTS"][0]}).status_code == 200


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("10.1.2.3:8000", 200),  # how Kubernetes' probes name a pod: its address
        ("10.1.2.3", 200),
        ("11.1.2.3:8000", 400),
        ("[fd00::1]:8000", 400),
        ("api.example.com", 200),
        ("10.evil.example", 400),
        ("[10.1.2.3", 400),
    ],
)
def test_a_host_in_a_trusted_network_is_answered(make_config, config, monkeypatch, host, status):
    monkeypatch.setenv("SECRET_KEY", os.urandom(32).hex())
    model = {"artifact_path": config.model.artifact_path}
    server = {"trusted_hosts": ["api.example.com", "10.0.0.0/8"], "require_api_keys": False}
    app = create_app(make_config(environment="production", model=model, server=server))
    assert app.test_client().get("/health", headers={"Host": host}).status_code == status


def test_a_well_formed_request_id_is_echoed(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("given", ["", "has spaces", "x" * 129, "<script>"])
def test_a_malformed_request_id_is_replaced_by_a_new_random_one(client, given):
    ids = [client.get("/health", headers={"X-Request-ID": given}).headers["X-Request-ID"] for _ in range(3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids), ids
    assert len(set(ids)) == 3  # a new one each time, never a constant


def test_a_request_without_an_id_gets_a_new_random_one(client):
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids), ids


# What every answer must carry, written out here (not read from the app) so that a weakened header fails.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize(("method", "path"), [("get", "/health"), ("post", "/predict"), ("get", "/nowhere")])
def test_every_api_answer_carries_the_security_headers(client, method, path):
    response = getattr(client, method)(path, json={} if method == "post" else None)
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_broken_log_stream_costs_the_log_line_not_the_answer(client, one, monkeypatch):
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert client.post("/predict", json=one).status_code == 200


def test_each_request_logs_one_json_line_with_its_outcome(client, one, capsys):
    client.post("/predict", json=one, headers={"X-Request-ID": "trace-me"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (entry,) = [entry for entry in lines if entry.get("request_id") == "trace-me"]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/predict", 200)
    assert (entry["level"], entry["message"]) == ("INFO", "request")
    assert entry["logger"] == "{{ cookiecutter.package_name }}.api.routes"
    assert 0 < entry["duration_ms"] < 10_000  # measured: a prediction takes some time, and not ten seconds
    assert entry["client"] == "127.0.0.1"  # the test client's address


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded_for", "client"),
    [
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is anyone's to forge
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client forged the first hop; the proxy added its own
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
    ],
)
def test_the_access_log_takes_the_client_address_only_from_trusted_proxies(
    make_config, config, capsys, trusted_proxies, forwarded_for, client
):
    settings = {"model": {"artifact_path": config.model.artifact_path}, "server": {"trusted_proxies": trusted_proxies}}
    app_client = create_app(make_config(**settings)).test_client()
    headers = {"X-Forwarded-For": forwarded_for, "X-Request-ID": "forwarded"}
    app_client.get("/health", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (entry,) = [entry for entry in lines if entry.get("request_id") == "forwarded"]
    assert entry["client"] == client


# The helpers every kind validates with (schemas/__init__.py), where the requests above do not reach them.


def test_no_problem_refuses_nothing():
    assert refuse([]) is None


@pytest.mark.parametrize(
    ("first", "message"),
    [
        ({"row": 3, "problem": "is wrong"}, "row 3: is wrong"),
        ({"row": 3, "feature": "x", "problem": "is wrong"}, "row 3, feature 'x': is wrong"),
    ],
    ids=["item", "feature"],
)
def test_a_refusal_leads_with_its_first_problem_and_lists_them_all(first, message):
    second = {"row": 4, "problem": "too"}
    with pytest.raises(ApiError) as raised:
        refuse([first, second])
    assert (raised.value.status, raised.value.code, raised.value.message) == (422, "invalid_input", message)
    assert raised.value.details == [first, second]


def test_a_v2_request_s_one_tensor_is_taken_as_it_is():
    tensor = {"name": "input-0", "datatype": "FP64", "shape": [1, 1], "data": [1.0]}
    assert v2_tensor([tensor], "[rows, 1]") is tensor


@pytest.mark.parametrize(
    "inputs",
    [None, {"name": "input-0"}, [], [{"name": "a"}, {"name": "b"}], ["tensor"]],
    ids=["missing", "not-a-list", "no-tensor", "two-tensors", "not-an-object"],
)
def test_a_v2_request_without_exactly_one_tensor_gets_the_protocol_s_400(inputs):
    with pytest.raises(ApiError, match=r"exactly one tensor, of shape \[rows, 7\]") as raised:
        v2_tensor(inputs, "[rows, 7]")
    assert raised.value.status == 400
