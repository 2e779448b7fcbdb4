import io
import json
import sys

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.models.classifier import (
    ModelError,
)
{%- if cookiecutter.example_task == "text" %}

NURSE = "Registered nurse with six years in intensive care; administered medication and managed wound care."
ENGINEER = "Backend developer who designed REST APIs in Go and reviewed code for junior developers."
INSTANCE = NURSE
ONE = {"text": NURSE}
ROLES = ["accountant", "data_scientist", "nurse", "sales", "software_engineer", "teacher"]
{%- else %}

SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]
INSTANCE = SETOSA
ONE = {"features": SETOSA}
NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def named(row):
    return dict(zip(NAMES, row, strict=True))
{%- endif %}


def assert_error(response, status, code):
    """Every error has one JSON shape, names its request and never carries a traceback."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)
    return error


def test_health_answers_without_looking_at_the_model(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_ready_names_the_loaded_model(client, config):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["model"] == {"name": config.model.name, "version": config.model.version}


def test_model_returns_the_saved_metadata(client):
    metadata = client.get("/model").get_json()
{%- if cookiecutter.example_task == "text" %}
    assert metadata["feature_names"] == ["text"]
{%- else %}
    assert metadata["feature_names"] == NAMES
{%- endif %}
    assert {"accuracy", "f1_macro"} == set(metadata["metrics"])
{%- if cookiecutter.example_task == "text" %}


@pytest.mark.parametrize("payload", [ONE, {"instances": [NURSE]}], ids=["one", "batch"])
def test_predict_accepts_every_documented_form(client, config, payload):
    body = client.post("/predict", json=payload).get_json()
    assert body["predictions"] == ["nurse"]
    assert body["classes"] == ROLES
    assert body["probabilities"][0][ROLES.index("nurse")] > 0.5
    assert sum(body["probabilities"][0]) == pytest.approx(1)
    assert body["model"] == {"name": config.model.name, "version": config.model.version}


def test_predict_answers_a_batch_text_by_text(client):
    body = client.post("/predict", json={"instances": [NURSE, ENGINEER, NURSE]}).get_json()
    assert body["predictions"] == ["nurse", "software_engineer", "nurse"]
    assert len(body["probabilities"]) == 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "must not be empty or only whitespace"),
        (" \n\t", "must not be empty or only whitespace"),
        (5, "must be a string, not a number"),
        (True, "must be a string, not a boolean"),
        (None, "must be a string, not null"),
        (["nurse"], "must be a string, not a list"),
        ({"text": "nurse"}, "must be a string, not an object"),
    ],
    ids=["empty", "whitespace", "number", "boolean", "null", "list", "object"],
)
def test_invalid_texts_get_422_naming_the_row(client, text, problem):
    error = assert_error(client.post("/predict", json={"text": text}), 422, "invalid_input")
    assert error["details"] == [{"row": 0, "problem": problem}]


def test_a_text_over_the_length_limit_gets_422(client, config):
    limit = config.server.max_text_chars
    assert client.post("/predict", json={"text": "a" * limit}).status_code == 200
    error = assert_error(client.post("/predict", json={"text": "a" * (limit + 1)}), 422, "invalid_input")
    assert error["details"] == [{"row": 0, "problem": f"has {limit + 1} characters, more than the limit of {limit}"}]


def test_every_problem_in_a_batch_is_listed(client):
    error = assert_error(client.post("/predict", json={"instances": ["", NURSE, 3]}), 422, "invalid_input")
    assert [detail["row"] for detail in error["details"]] == [0, 2]
    assert error["message"] == "row 0: must not be empty or only whitespace"


{%- else %}


@pytest.mark.parametrize(
    "payload",
    [
        {"features": SETOSA},
        {"features": named(SETOSA)},
        {"instances": [SETOSA]},
        {"instances": [named(SETOSA)]},
    ],
    ids=["list", "named", "batch-of-lists", "batch-of-named"],
)
def test_predict_accepts_every_documented_form(client, config, payload):
    body = client.post("/predict", json=payload).get_json()
    assert body["predictions"] == ["setosa"]
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    assert body["probabilities"][0][0] > 0.9
    assert sum(body["probabilities"][0]) == pytest.approx(1)
    assert body["model"] == {"name": config.model.name, "version": config.model.version}


def test_predict_answers_a_batch_row_by_row(client):
    body = client.post("/predict", json={"instances": [SETOSA, named(VIRGINICA), SETOSA]}).get_json()
    assert body["predictions"] == ["setosa", "virginica", "setosa"]
    assert len(body["probabilities"]) == 3


def test_integers_are_numbers_too(client):
    assert client.post("/predict", json={"features": [5, 3, 1, 0]}).status_code == 200


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ({"features": [5.1, 3.5, 1.4]}, {"row": 0, "problem": "has 3 values, the model takes 4"}),
        (
            {"features": [5.1, "3.5", 1.4, 0.2]},
            {"row": 0, "feature": "sepal_width", "problem": "must be a number, not a string"},
        ),
        (
            {"features": [True, 3.5, 1.4, 0.2]},
            {"row": 0, "feature": "sepal_length", "problem": "must be a number, not a boolean"},
        ),
        (
            {"features": [[5.1], 3.5, 1.4, 0.2]},
            {"row": 0, "feature": "sepal_length", "problem": "must be a number, not a list"},
        ),
        (
            {"features": [None, 3.5, 1.4, 0.2]},
            {"row": 0, "feature": "sepal_length", "problem": "must be a number, not null"},
        ),
        (
            {"instances": [SETOSA, "5.1,3.5"]},
            {"row": 1, "problem": "must be a list of 4 numbers or an object keyed by feature name"},
        ),
        (
            {"features": {**named(SETOSA), "colour": 1}},
            {"row": 0, "problem": "feature names do not match the model's", "unknown": ["colour"], "missing": []},
        ),
        (
            {"features": {"sepal_length": 5.1}},
            {"row": 0, "problem": "feature names do not match the model's", "unknown": [], "missing": NAMES[1:]},
        ),
    ],
    ids=["too-few", "string", "boolean", "nested-list", "null", "row-not-a-list", "unknown-name", "missing-names"],
)
def test_invalid_features_get_422_naming_row_and_feature(client, payload, detail):
    error = assert_error(client.post("/predict", json=payload), 422, "invalid_input")
    assert error["details"] == [detail]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_get_422(client, literal):
    body = '{"features": [5.1, LITERAL, 1.4, 0.2]}'.replace("LITERAL", literal)
    error = assert_error(client.post("/predict", data=body, content_type="application/json"), 422, "invalid_input")
    assert error["details"][0]["feature"] == "sepal_width"


def test_a_huge_integer_gets_422(client):
    body = '{"features": [5.1, HUGE, 1.4, 0.2]}'.replace("HUGE", "1" + "0" * 400)
    assert_error(client.post("/predict", data=body, content_type="application/json"), 422, "invalid_input")


@pytest.mark.parametrize("value", [True, "1.4", None, 1e301], ids=["boolean", "string", "null", "huge"])
def test_one_bad_value_in_a_full_batch_is_found_and_named(client, config, value):
    rows = [list(SETOSA) for _ in range(config.server.max_batch_rows)]
    rows[-1][2] = value
    error = assert_error(client.post("/predict", json={"instances": rows}), 422, "invalid_input")
    assert [(detail["row"], detail["feature"]) for detail in error["details"]] == [(len(rows) - 1, "petal_length")]


def test_every_problem_in_a_batch_is_listed(client):
    error = assert_error(
        client.post("/predict", json={"instances": [["a", 1, 2, 3], SETOSA, [1]]}), 422, "invalid_input"
    )
    assert [detail["row"] for detail in error["details"]] == [0, 2]
    assert error["message"].startswith("row 0, feature 'sepal_length'")
{%- endif %}


@pytest.mark.parametrize(
    "payload",
    [
{%- if cookiecutter.example_task == "text" %}
        [NURSE],
        {"instances": []},
        {"instances": NURSE},
        {"texts": [NURSE]},
        {"text": NURSE, "instances": [NURSE]},
        "text",
{%- else %}
        [SETOSA],
        {"instances": []},
        {"instances": SETOSA[0]},
        {"rows": [SETOSA]},
        {"features": SETOSA, "instances": [SETOSA]},
        "text",
{%- endif %}
    ],
    ids=["top-level-list", "empty-batch", "instances-not-a-list", "unknown-key", "both-keys", "string"],
)
def test_a_body_of_the_wrong_shape_gets_422(client, payload):
    assert_error(client.post("/predict", json=payload), 422, "invalid_input")


def test_malformed_json_gets_400(client):
    assert_error(
        client.post("/predict", data=json.dumps(ONE)[:-2], content_type="application/json"), 400, "bad_request"
    )


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_gets_415(client, content_type):
    response = client.post("/predict", data=json.dumps(ONE), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_size_limit_gets_413(make_config, config):
    small = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": 100})
    response = create_app(small).test_client().post("/predict", json={"instances": [INSTANCE] * 10})
    assert "limit of 100 bytes" in assert_error(response, 413, "payload_too_large")["message"]


def test_a_batch_over_the_row_limit_gets_413(client, config):
    rows = [INSTANCE] * (config.server.max_batch_rows + 1)
    error = assert_error(client.post("/predict", json={"instances": rows}), 413, "batch_too_large")
    assert str(config.server.max_batch_rows) in error["message"]


def test_an_unknown_route_gets_json_404(client):
    assert_error(client.get("/nowhere"), 404, "not_found")


def test_a_wrong_method_gets_json_405_with_allow(client):
    response = client.get("/predict")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


@pytest.fixture
def unready_client(make_config, tmp_path):
    config = make_config(model={"artifact_path": str(tmp_path / "absent.skops")}, server={"require_model": False})
    return create_app(config).test_client()


@pytest.mark.parametrize(("method", "path"), [("get", "/ready"), ("get", "/model"), ("post", "/predict")])
def test_without_a_model_the_service_is_unready_and_says_why(unready_client, method, path):
    response = getattr(unready_client, method)(path, json=ONE if method == "post" else None)
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


def test_without_a_model_liveness_still_answers(unready_client):
    assert unready_client.get("/health").status_code == 200


def test_without_a_model_startup_is_refused_by_default(make_config, tmp_path):
    with pytest.raises(ModelError, match=r"absent.skops"):
        create_app(make_config(model={"artifact_path": str(tmp_path / "absent.skops")}))


def test_an_unexpected_error_gets_a_generic_500_and_a_logged_traceback(config, caplog):
    app = create_app(config)

    @app.get("/explode")
    def explode():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/explode")
    error = assert_error(response, 500, "internal_error")
    assert "secret internals" not in json.dumps(error)
    logged = [record for record in caplog.records if record.exc_info]
    assert logged[0].request_id == error["request_id"]


def test_a_well_formed_request_id_is_echoed(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("given", ["", "has spaces", "x" * 129, "<script>"])
def test_a_malformed_request_id_is_replaced(client, given):
    request_id = client.get("/health", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert request_id != given
    assert len(request_id) == 32


def test_a_broken_log_stream_costs_the_log_line_not_the_answer(client, monkeypatch):
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert client.post("/predict", json=ONE).status_code == 200


def test_each_request_logs_one_json_line_with_its_outcome(client, capsys):
    client.post("/predict", json=ONE, headers={"X-Request-ID": "trace-me"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (entry,) = [entry for entry in lines if entry.get("request_id") == "trace-me"]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/predict", 200)
    assert (entry["level"], entry["message"]) == ("INFO", "request")
    assert entry["logger"] == "{{ cookiecutter.package_name }}.api.app"
    assert entry["duration_ms"] >= 0
