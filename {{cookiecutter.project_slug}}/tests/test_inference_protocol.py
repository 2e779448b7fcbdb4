"""The Open Inference Protocol (KServe v2) under /v2: the spec's own request shapes, answered as /predict answers.

The tensors are built as the model's own metadata (GET /v2/models/<name>) says, by conftest's `v2`; what
the framing of one input kind must refuse (FP64 rows, BYTES texts) is tested in test_numbers.py and test_texts.py.
"""

import json

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)


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


def test_server_metadata(client, v2):
    assert client.get("/v2").get_json() == {"name": v2.name, "version": v2.version, "extensions": []}


@pytest.mark.parametrize("runtime", ["onnx", "sklearn"])
def test_model_metadata_describes_the_tensors(make_config, config, model, v2, runtime):
    client = create_app(
        make_config(model={"artifact_path": config.model.artifact_path, "runtime": runtime})
    ).test_client()
    has_onnx = bool(client.get("/model").get_json().get("onnx_sha256"))
    expected = {
        "name": v2.name,
        "versions": [v2.version],
        "platform": runtime if has_onnx else "sklearn",  # a model without an ONNX copy, whatever the runtime asks
        "inputs": [{"name": v2.INPUT, **model.inputs.v2_metadata()}],  # its datatype and shape: test_<kind>.py
        "outputs": model.outputs.v2_metadata(),
    }
    assert client.get(f"/v2/models/{v2.name}").get_json() == expected
    assert client.get(f"/v2/models/{v2.name}/versions/{v2.version}").get_json() == expected
    assert [output["name"] for output in expected["outputs"]] == list(model.outputs.output_names)


def test_model_readiness(client, v2):
    for path in (f"/v2/models/{v2.name}/ready", f"/v2/models/{v2.name}/versions/{v2.version}/ready"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (200, {"name": v2.name, "ready": True})


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
@pytest.mark.parametrize("versioned", [False, True], ids=["latest", "versioned"])
def test_infer_answers_as_predict_does(client, v2, nested, versioned):
    path = f"/v2/models/{v2.name}/versions/{v2.version}/infer" if versioned else v2.infer
    response = client.post(path, json=v2.body(v2.items, nested=nested))
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = client.post("/predict", json={"instances": v2.items}).get_json()
    assert response.get_json() == {"model_name": v2.name, "model_version": v2.version, "outputs": v2.outputs(expected)}
    assert response.headers["X-Request-ID"]


def test_infer_echoes_the_request_id(client, v2):
    answer = client.post(v2.infer, json={"id": "42", **v2.body(v2.items)}).get_json()
    assert answer["id"] == "42"


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        (lambda names: [names[-1]], lambda names: [names[-1]]),
        (lambda names: [names[0], names[0]], lambda names: [names[0]]),
        (lambda names: names[::-1], lambda names: names[::-1]),
        (lambda names: [], lambda names: names),
    ],
    ids=["one", "duplicate", "reordered", "none-named"],
)
def test_infer_returns_only_the_requested_outputs(client, model, v2, requested, answered):
    names = list(model.outputs.output_names)
    wanted = [{"name": output} for output in requested(names)]
    answer = client.post(v2.infer, json={**v2.body(v2.items), "outputs": wanted}).get_json()
    assert [output["name"] for output in answer["outputs"]] == answered(names)


def test_infer_reads_json_sent_without_a_content_type(client, v2, example, one):
    response = client.post(v2.infer, data=json.dumps(v2.body([example], nested=False)))
    assert "Content-Type" not in response.request.headers
    assert response.get_json()["outputs"] == v2.outputs(client.post("/predict", json=one).get_json())


# id: t -> (a body, a part of its 400's message), from conftest's v2 (t.body builds a body, t.items holds two
# items). The framing of one input kind's tensor: test_numbers.py (FP64), test_texts.py (BYTES).
BAD_REQUESTS = {
    "body-not-an-object": lambda t: ([t.body(t.items)], "JSON object"),
    "no-inputs": lambda t: ({}, '"inputs" must be a list of exactly one tensor'),
    "zero-inputs": lambda t: ({"inputs": []}, "exactly one tensor"),
    "two-inputs": lambda t: ({"inputs": t.body(t.items)["inputs"] * 2}, "exactly one tensor"),
    "input-not-an-object": lambda t: ({"inputs": [t.INPUT]}, "exactly one tensor"),
    "unknown-output": lambda t: ({**t.body(t.items), "outputs": [{"name": "species"}]}, "unknown output 'species'"),
    "outputs-not-a-list": lambda t: ({**t.body(t.items), "outputs": {"name": "x"}}, '"outputs" must be a list'),
    "output-not-an-object": lambda t: ({**t.body(t.items), "outputs": ["x"]}, '"outputs" must be a list'),
    "wrong-input-name": lambda t: (t.body(t.items, name="features"), "the input tensor is named 'features'"),
    "no-input-name": lambda t: (t.body(t.items, name=t.DROP), "the input tensor is named None"),
    "id-not-a-string": lambda t: ({"id": 42, **t.body(t.items)}, '"id" must be a string, not 42'),
    "id-null": lambda t: ({"id": None, **t.body(t.items)}, '"id" must be a string, not None'),
}


@pytest.mark.parametrize("case", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_input_gets_400_with_the_protocols_error(client, v2, case):
    payload, message = case(v2)
    assert message in v2.error(client.post(v2.infer, json=payload), 400)


@pytest.mark.parametrize("field", ["name", "shape", "datatype", "outputs"])
def test_a_field_nested_a_thousand_deep_gets_400_not_500(client, v2, field):
    """orjson reads up to 1024 levels; quoting such a value with repr() in the error message would recurse."""
    if field == "outputs":
        body = {**v2.body(v2.items), "outputs": [{"name": "DEEP"}]}
    else:
        body = v2.body(v2.items, **{field: "DEEP"})
    deep = json.dumps(body).replace('"DEEP"', "[" * 1000 + "]" * 1000)
    assert "a list" in v2.error(client.post(v2.infer, data=deep, content_type="application/json"), 400)


@pytest.mark.parametrize(
    "body",
    ['{"inputs": [', '{"inputs": ' + "[" * 5000 + "]" * 5000 + "}", '{"inputs": [], "id": "\\ud800"}'],
    ids=["cut", "deep", "lone-surrogate"],
)
def test_malformed_json_gets_400_in_the_protocols_shape(client, v2, body):
    response = client.post(v2.infer, data=body, content_type="application/json")
    assert v2.error(response, 400).startswith("the body is not valid JSON: ")


def test_the_binary_data_extension_gets_400_saying_so(client, v2):
    """KServe's clients send tensors as raw bytes after the JSON header when asked (binary_data=True)."""
    headers = {"Inference-Header-Content-Length": "2"}
    response = client.post(v2.infer, data=b"{}\x00\x00", headers=headers, content_type="application/octet-stream")
    assert v2.error(response, 400).startswith("the binary tensor data extension is not supported")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v2/models/nowhere"),
        ("get", "/v2/models/nowhere/ready"),
        ("post", "/v2/models/nowhere/infer"),
        ("get", "/v2/models/nowhere/versions/VERSION"),
    ],
)
def test_an_unknown_model_gets_404(client, v2, method, path):
    response = getattr(client, method)(
        path.replace("VERSION", v2.version), json=v2.body(v2.items) if method == "post" else None
    )
    assert v2.error(response, 404) == "model 'nowhere' not found"


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("get", "/ready"), ("post", "/infer")], ids=["metadata", "ready", "infer"]
)
def test_an_unknown_version_gets_404(client, v2, method, suffix):
    response = getattr(client, method)(
        f"/v2/models/{v2.name}/versions/9.9.9{suffix}", json=v2.body(v2.items) if method == "post" else None
    )
    assert v2.error(response, 404) == f"model '{v2.name}' has no version '9.9.9'"


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
def test_a_batch_over_the_row_limit_gets_413(client, config, v2, example, nested):
    response = client.post(v2.infer, json=v2.body([example] * (config.server.max_batch_rows + 1), nested))
    assert str(config.server.max_batch_rows) in v2.error(response, 413)


def test_a_body_over_the_size_limit_gets_413(make_config, config, v2):
    body = json.dumps(v2.body(v2.items, nested=False))
    limit = len(body.encode()) - 1  # one byte short, whatever the items' size
    small = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": limit})
    response = create_app(small).test_client().post(v2.infer, data=body, content_type="application/json")
    v2.error(response, 413)


def test_without_a_model_readiness_is_503_and_liveness_200(unready_client, v2):
    live, ready = unready_client.get("/v2/health/live"), unready_client.get("/v2/health/ready")
    assert (live.status_code, live.get_json()) == (200, {"live": True})
    assert (ready.status_code, ready.get_json()) == (503, {"ready": False})
    model_ready = unready_client.get(f"/v2/models/{v2.name}/ready")
    assert (model_ready.status_code, model_ready.get_json()) == (503, {"name": v2.name, "ready": False})
    assert unready_client.get("/v2").status_code == 200


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/infer")], ids=["metadata", "infer"])
def test_without_a_model_metadata_and_infer_get_503(unready_client, v2, method, suffix):
    response = getattr(unready_client, method)(
        f"/v2/models/{v2.name}{suffix}", json=v2.body(v2.items) if method == "post" else None
    )
    assert "absent.skops" in v2.error(response, 503)


def test_the_rest_of_the_api_keeps_its_own_error_shape(client):
    error = client.post("/predict", json={"inputs": []}).get_json()["error"]
    assert error["code"] == "invalid_input"
    assert client.get("/nowhere").get_json()["error"]["code"] == "not_found"
