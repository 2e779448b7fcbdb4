"""The Open Inference Protocol (KServe v2) under /v2: the spec's own request shapes, answered as /predict answers."""

import itertools
import json

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
{%- if cookiecutter.example_task == "text" %}

TEXTS = ["Sales rep who exceeded quota and negotiated contracts.", "Maths teacher who marked homework and ran a club."]
# Texts are BYTES to the protocol: a tensor of shape [rows] with flat data, or [rows, 1] with data nested by it.
FLAT = {"inputs": [{"name": "input-0", "shape": [2], "datatype": "BYTES", "data": TEXTS}]}
NESTED = {"inputs": [{"name": "input-0", "shape": [2, 1], "datatype": "BYTES", "data": [[text] for text in TEXTS]}]}


def tensor(data, shape=(2,), datatype="BYTES"):
{%- else %}

ROWS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
# KServe's documented iris request for the V2 protocol, with nested data and with the same data flattened.
NESTED = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": ROWS}]}
FLAT = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [*ROWS[0], *ROWS[1]]}]}


def tensor(data, shape=(2, 4), datatype="FP64"):
{%- endif %}
    return {"inputs": [{"name": "input-0", "shape": list(shape), "datatype": datatype, "data": data}]}


def assert_protocol_error(response, status):
    """Every /v2 error has the protocol's shape, {"error": "<message>"}, and no traceback."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "Traceback" not in body["error"]
    return body["error"]


@pytest.fixture
def name(config):
    return config.model.name


@pytest.fixture
def version(config):
    return config.model.version


@pytest.fixture
def unready_client(make_config, tmp_path):
    config = make_config(model={"artifact_path": str(tmp_path / "absent.skops")}, server={"require_model": False})
    return create_app(config).test_client()


def test_liveness(client):
    response = client.get("/v2/health/live")
    assert (response.status_code, response.get_json()) == (200, {"live": True})


def test_readiness_with_a_model(client):
    response = client.get("/v2/health/ready")
    assert (response.status_code, response.get_json()) == (200, {"ready": True})


def test_server_metadata(client, name, version):
    assert client.get("/v2").get_json() == {"name": name, "version": version, "extensions": []}


@pytest.mark.parametrize("runtime", ["onnx", "sklearn"])
def test_model_metadata_describes_the_tensors(make_config, config, name, version, runtime):
    model = {"artifact_path": config.model.artifact_path, "runtime": runtime}
    client = create_app(make_config(model=model)).test_client()
    expected = {
        "name": name,
        "versions": [version],
{%- if cookiecutter.example_task == "text" %}
        "platform": "sklearn",  # the text model has no ONNX copy, whatever the runtime asks
        "inputs": [{"name": "input-0", "datatype": "BYTES", "shape": [-1]}],
{%- else %}
        "platform": runtime,
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}],
{%- endif %}
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, {{ 6 if cookiecutter.example_task == "text" else 3 }}]},
        ],
    }
    assert client.get(f"/v2/models/{name}").get_json() == expected
    assert client.get(f"/v2/models/{name}/versions/{version}").get_json() == expected


def test_model_readiness(client, name, version):
    for path in (f"/v2/models/{name}/ready", f"/v2/models/{name}/versions/{version}/ready"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (200, {"name": name, "ready": True})


@pytest.mark.parametrize("payload", [NESTED, FLAT], ids=["nested", "flat"])
@pytest.mark.parametrize("versioned", [False, True], ids=["latest", "versioned"])
def test_infer_answers_as_predict_does(client, name, version, payload, versioned):
    path = f"/v2/models/{name}/versions/{version}/infer" if versioned else f"/v2/models/{name}/infer"
    response = client.post(path, json=payload)
    assert response.status_code == 200, response.get_data(as_text=True)
{%- if cookiecutter.example_task == "text" %}
    expected = client.post("/predict", json={"instances": TEXTS}).get_json()
{%- else %}
    expected = client.post("/predict", json={"instances": ROWS}).get_json()
{%- endif %}
    assert response.get_json() == {
        "model_name": name,
        "model_version": version,
        "outputs": [
            {"name": "label", "shape": [2], "datatype": "BYTES", "data": expected["predictions"]},
            {
                "name": "probabilities",
                "shape": [2, len(expected["classes"])],
                "datatype": "FP64",
                "data": list(itertools.chain.from_iterable(expected["probabilities"])),
            },
        ],
    }
    assert response.headers["X-Request-ID"]


def test_infer_echoes_the_request_id(client, name):
    body = client.post(f"/v2/models/{name}/infer", json={"id": "42", **NESTED}).get_json()
    assert body["id"] == "42"


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        ([{"name": "probabilities"}], ["probabilities"]),
        ([{"name": "label"}, {"name": "label"}], ["label"]),
        ([{"name": "probabilities"}, {"name": "label"}], ["probabilities", "label"]),
        ([], ["label", "probabilities"]),
    ],
    ids=["one", "duplicate", "reordered", "none-named"],
)
def test_infer_returns_only_the_requested_outputs(client, name, requested, answered):
    body = client.post(f"/v2/models/{name}/infer", json={**NESTED, "outputs": requested}).get_json()
    assert [output["name"] for output in body["outputs"]] == answered
{%- if cookiecutter.example_task == "text" %}


def test_infer_reads_json_sent_without_a_content_type(client, name):
    response = client.post(f"/v2/models/{name}/infer", data=json.dumps(tensor(["Registered nurse"], shape=(1,))))
    assert "Content-Type" not in response.request.headers
    assert response.get_json()["outputs"][0]["data"] == ["nurse"]


{%- else %}


@pytest.mark.parametrize("datatype", ["INT64", "INT32", "UINT8", "FP16"])
def test_infer_takes_every_numeric_datatype(client, name, datatype):
    response = client.post(f"/v2/models/{name}/infer", json=tensor([[5, 3, 1, 0]], shape=(1, 4), datatype=datatype))
    assert response.get_json()["outputs"][0]["data"] == ["setosa"]


def test_infer_reads_json_sent_without_a_content_type(client, name):
    response = client.post(f"/v2/models/{name}/infer", data=json.dumps(tensor([5.1, 3.5, 1.4, 0.2], shape=(1, 4))))
    assert "Content-Type" not in response.request.headers
    assert response.get_json()["outputs"][0]["data"] == ["setosa"]
{%- endif %}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([NESTED], "JSON object"),
        ({}, '"inputs" must be a list of exactly one tensor'),
        ({"inputs": []}, "exactly one tensor"),
        ({"inputs": NESTED["inputs"] * 2}, "exactly one tensor"),
        ({"inputs": ["input-0"]}, "exactly one tensor"),
{%- if cookiecutter.example_task == "text" %}
        (tensor(TEXTS, datatype="FP32"), "unsupported datatype 'FP32'"),
        ({"inputs": [{"name": "input-0", "shape": [2], "data": TEXTS}]}, "unsupported datatype None"),
        (tensor(TEXTS, shape=(2, 2)), "shape [2, 2] does not fit"),
        (tensor(TEXTS, shape=(2, 1, 1)), "shape [2, 1, 1] does not fit"),
        (tensor([], shape=(0,)), "shape [0] does not fit"),
        (tensor(TEXTS, shape=(True,)), "shape [True] does not fit"),
        ({"inputs": [{"name": "input-0", "datatype": "BYTES", "data": TEXTS}]}, "shape None does not fit"),
        (tensor("a text"), '"data" must be a list'),
        (tensor(TEXTS * 2), "data holds 4 items, its shape [2] says 2"),
        (tensor(["", TEXTS[0]]), "row 0: must not be empty"),
        (tensor([TEXTS[0], 5]), "row 1: must be a string, not a number"),
        (tensor([TEXTS], shape=(1, 1)), "row 0: must be a string, not a list"),
{%- else %}
        (tensor(ROWS, datatype="FLOAT"), "unsupported datatype 'FLOAT'"),
        (tensor(ROWS, datatype="BYTES"), "unsupported datatype 'BYTES'"),
        ({"inputs": [{"name": "input-0", "shape": [2, 4], "data": ROWS}]}, "unsupported datatype None"),
        (tensor(ROWS, shape=(2, 3)), "shape [2, 3] does not fit"),
        (tensor(ROWS, shape=(8,)), "shape [8] does not fit"),
        (tensor(ROWS, shape=(2, 2, 2)), "shape [2, 2, 2] does not fit"),
        (tensor([], shape=(0, 4)), "shape [0, 4] does not fit"),
        (tensor(ROWS, shape=(True, 4)), "shape [True, 4] does not fit"),
        (tensor(ROWS, shape=("2", 4)), "shape ['2', 4] does not fit"),
        ({"inputs": [{"name": "input-0", "datatype": "FP64", "data": ROWS}]}, "shape None does not fit"),
        (tensor("6.8, 2.8"), '"data" must be a list'),
        (tensor([6.8, 2.8, 4.8, 1.4, 6.0]), "data holds 5 values, its shape [2, 4] needs 8"),
        (tensor(ROWS, shape=(3, 4)), "data holds 2 rows, its shape [3, 4] says 3"),
        (tensor([[6.8, 2.8, 4.8], [6.0, 3.4, 4.5]]), "row 0: has 3 values, the model takes 4"),
        (tensor([6.8, "2.8", 4.8, 1.4], shape=(1, 4)), "row 0, feature 'sepal_width': must be a number, not a string"),
        (tensor([True, 2.8, 4.8, 1.4], shape=(1, 4)), "must be a number, not a boolean"),
        (tensor([None, 2.8, 4.8, 1.4], shape=(1, 4)), "must be a number, not null"),
{%- endif %}
        ({**NESTED, "outputs": [{"name": "species"}]}, "unknown output 'species'"),
        ({**NESTED, "outputs": {"name": "label"}}, '"outputs" must be a list'),
        ({**NESTED, "outputs": ["label"]}, '"outputs" must be a list'),
    ],
    ids=[
        "body-not-an-object",
        "no-inputs",
        "zero-inputs",
        "two-inputs",
        "input-not-an-object",
{%- if cookiecutter.example_task == "text" %}
        "numeric-datatype",
        "no-datatype",
        "two-columns",
        "three-dimensions",
        "zero-rows",
        "boolean-in-shape",
        "no-shape",
        "data-not-a-list",
        "length-mismatch",
        "empty-text",
        "number",
        "nested-list-too-long",
{%- else %}
        "unknown-datatype",
        "bytes-datatype",
        "no-datatype",
        "wrong-width",
        "one-dimension",
        "three-dimensions",
        "zero-rows",
        "boolean-in-shape",
        "string-in-shape",
        "no-shape",
        "data-not-a-list",
        "flat-length-mismatch",
        "nested-row-count-mismatch",
        "nested-row-too-short",
        "string-value",
        "boolean-value",
        "null-value",
{%- endif %}
        "unknown-output",
        "outputs-not-a-list",
        "output-not-an-object",
    ],
)
def test_bad_input_gets_400_with_the_protocols_error(client, name, payload, message):
    assert message in assert_protocol_error(client.post(f"/v2/models/{name}/infer", json=payload), 400)
{%- if cookiecutter.example_task != "text" %}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_get_400(client, name, literal):
    body = '{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [5.1, LITERAL, 1.4, 0.2]}]}'
    response = client.post(f"/v2/models/{name}/infer", data=body.replace("LITERAL", literal))
    assert "must be a finite number" in assert_protocol_error(response, 400)
{%- endif %}


def test_malformed_json_gets_400(client, name):
    response = client.post(f"/v2/models/{name}/infer", data='{"inputs": [', content_type="application/json")
    assert_protocol_error(response, 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v2/models/nowhere"),
        ("get", "/v2/models/nowhere/ready"),
        ("post", "/v2/models/nowhere/infer"),
        ("get", "/v2/models/nowhere/versions/VERSION"),
    ],
)
def test_an_unknown_model_gets_404(client, version, method, path):
    response = getattr(client, method)(path.replace("VERSION", version), json=NESTED if method == "post" else None)
    assert assert_protocol_error(response, 404) == "model 'nowhere' not found"


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("get", "/ready"), ("post", "/infer")], ids=["metadata", "ready", "infer"]
)
def test_an_unknown_version_gets_404(client, name, method, suffix):
    response = getattr(client, method)(
        f"/v2/models/{name}/versions/9.9.9{suffix}", json=NESTED if method == "post" else None
    )
    assert assert_protocol_error(response, 404) == f"model '{name}' has no version '9.9.9'"


def test_a_batch_over_the_row_limit_gets_413(client, config, name):
    rows = config.server.max_batch_rows + 1
{%- if cookiecutter.example_task == "text" %}
    response = client.post(f"/v2/models/{name}/infer", json=tensor(TEXTS[:1] * rows, shape=(rows,)))
{%- else %}
    response = client.post(f"/v2/models/{name}/infer", json=tensor(ROWS[0] * rows, shape=(rows, 4)))
{%- endif %}
    assert str(config.server.max_batch_rows) in assert_protocol_error(response, 413)


def test_a_body_over_the_size_limit_gets_413(make_config, config, name):
    small = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": 100})
    response = create_app(small).test_client().post(f"/v2/models/{name}/infer", json=FLAT)
    assert_protocol_error(response, 413)


def test_without_a_model_readiness_is_503_and_liveness_200(unready_client, name):
    live, ready = unready_client.get("/v2/health/live"), unready_client.get("/v2/health/ready")
    assert (live.status_code, live.get_json()) == (200, {"live": True})
    assert (ready.status_code, ready.get_json()) == (503, {"ready": False})
    model_ready = unready_client.get(f"/v2/models/{name}/ready")
    assert (model_ready.status_code, model_ready.get_json()) == (503, {"name": name, "ready": False})
    assert unready_client.get("/v2").status_code == 200


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/infer")], ids=["metadata", "infer"])
def test_without_a_model_metadata_and_infer_get_503(unready_client, name, method, suffix):
    response = getattr(unready_client, method)(f"/v2/models/{name}{suffix}", json=NESTED if method == "post" else None)
    assert "absent.skops" in assert_protocol_error(response, 503)


def test_the_rest_of_the_api_keeps_its_own_error_shape(client):
    error = client.post("/predict", json={"inputs": []}).get_json()["error"]
    assert error["code"] == "invalid_input"
    assert client.get("/nowhere").get_json()["error"]["code"] == "not_found"
