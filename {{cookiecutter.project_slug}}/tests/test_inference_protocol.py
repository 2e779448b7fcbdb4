"""The Open Inference Protocol (KServe v2) under /v2: the spec's own request shapes, answered as /predict answers.

The tensors are built as the model's own metadata (GET /v2/models/<name>) says: rows of numbers are FP64
of shape [rows, features], texts BYTES of shape [rows] (or [rows, 1] nested). The framing problems that
differ between the two are listed per datatype and run for the model's own.
"""

import itertools
import json
import types

import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)

INPUT = "input-0"
DROP = object()  # a tensor field left out


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
def datatype(model):
    """The datatype of the model's input tensor, as its metadata says."""
    return model.inputs.v2_metadata()["datatype"]


@pytest.fixture
def items(example):
    """Two different items of the example's kind: the example, and its first half (a text) or double (a row)."""
    second = example[: len(example) // 2] if isinstance(example, str) else [value * 2 for value in example]
    return [example, second]


@pytest.fixture
def body(model):
    """body(items, nested=True, **changes): a v2 request of one input tensor holding `items`, data nested by the
    shape ([rows, features] of numbers, [rows, 1] of texts) or flat in row-major order with the metadata's shape
    ([rows, features], or [rows]); `changes` replace the tensor's fields, or (DROP) leave them out."""
    metadata = model.inputs.v2_metadata()

    def make(items, nested=True, **changes):
        rows = [item if isinstance(item, list) else [item] for item in items]
        if nested:
            shape, data = [len(rows), len(rows[0])], rows
        else:
            shape = [len(rows) if size == -1 else size for size in metadata["shape"]]
            data = list(itertools.chain.from_iterable(rows))
        tensor = {"name": INPUT, "shape": shape, "datatype": metadata["datatype"], "data": data, **changes}
        return {"inputs": [{field: value for field, value in tensor.items() if value is not DROP}]}

    return make


@pytest.fixture
def expected_outputs(model):
    """expected_outputs(answer): the v2 outputs that carry what POST /predict answered, as the model's metadata
    names and shapes them. An output takes the answer's field of its name (probabilities), else its predictions."""

    def outputs(answer):
        rows = len(answer["predictions"])
        return [
            {
                "name": output["name"],
                "shape": [rows if size == -1 else size for size in output["shape"]],
                "datatype": output["datatype"],
                "data": _flat(answer.get(output["name"], answer["predictions"])),
            }
            for output in model.outputs.v2_metadata()
        ]

    return outputs


def _flat(values: list) -> list:
    return list(itertools.chain.from_iterable(values)) if values and isinstance(values[0], list) else values


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
def test_model_metadata_describes_the_tensors(make_config, config, model, example, name, version, runtime):
    client = create_app(
        make_config(model={"artifact_path": config.model.artifact_path, "runtime": runtime})
    ).test_client()
    has_onnx = bool(client.get("/model").get_json().get("onnx_sha256"))
    tensor = (
        {"datatype": "BYTES", "shape": [-1]}
        if isinstance(example, str)
        else {"datatype": "FP64", "shape": [-1, len(example)]}
    )
    expected = {
        "name": name,
        "versions": [version],
        "platform": runtime if has_onnx else "sklearn",  # a model without an ONNX copy, whatever the runtime asks
        "inputs": [{"name": INPUT, **tensor}],
        "outputs": model.outputs.v2_metadata(),
    }
    assert client.get(f"/v2/models/{name}").get_json() == expected
    assert client.get(f"/v2/models/{name}/versions/{version}").get_json() == expected
    assert [output["name"] for output in expected["outputs"]] == list(model.outputs.output_names)


def test_model_readiness(client, name, version):
    for path in (f"/v2/models/{name}/ready", f"/v2/models/{name}/versions/{version}/ready"):
        response = client.get(path)
        assert (response.status_code, response.get_json()) == (200, {"name": name, "ready": True})


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
@pytest.mark.parametrize("versioned", [False, True], ids=["latest", "versioned"])
def test_infer_answers_as_predict_does(client, name, version, body, items, expected_outputs, nested, versioned):
    path = f"/v2/models/{name}/versions/{version}/infer" if versioned else f"/v2/models/{name}/infer"
    response = client.post(path, json=body(items, nested=nested))
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = client.post("/predict", json={"instances": items}).get_json()
    assert response.get_json() == {"model_name": name, "model_version": version, "outputs": expected_outputs(expected)}
    assert response.headers["X-Request-ID"]


def test_infer_echoes_the_request_id(client, name, body, items):
    answer = client.post(f"/v2/models/{name}/infer", json={"id": "42", **body(items)}).get_json()
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
def test_infer_returns_only_the_requested_outputs(client, model, name, body, items, requested, answered):
    names = list(model.outputs.output_names)
    wanted = [{"name": output} for output in requested(names)]
    answer = client.post(f"/v2/models/{name}/infer", json={**body(items), "outputs": wanted}).get_json()
    assert [output["name"] for output in answer["outputs"]] == answered(names)


def test_infer_reads_json_sent_without_a_content_type(client, name, body, example, one, expected_outputs):
    response = client.post(f"/v2/models/{name}/infer", data=json.dumps(body([example], nested=False)))
    assert "Content-Type" not in response.request.headers
    assert response.get_json()["outputs"] == expected_outputs(client.post("/predict", json=one).get_json())


@pytest.mark.parametrize("numeric", ["INT64", "INT32", "UINT8", "FP16"])
def test_infer_takes_every_numeric_datatype_for_numbers(
    client, name, body, example, datatype, numeric, expected_outputs
):
    if datatype != "FP64":
        pytest.skip("the model does not take numbers")
    whole = [round(value) for value in example]
    response = client.post(f"/v2/models/{name}/infer", json=body([whole], datatype=numeric))
    answer = client.post("/predict", json={"instances": [whole]}).get_json()
    assert response.get_json()["outputs"] == expected_outputs(answer)


# id: (the datatype the case is about, or None for every model; the case: its body and a part of its message, from
# t.body (the body fixture), t.items (two items), t.names (the feature names) and t.width (their number)).
BAD_INPUTS = {
    "body-not-an-object": (None, lambda t: ([t.body(t.items)], "JSON object")),
    "no-inputs": (None, lambda t: ({}, '"inputs" must be a list of exactly one tensor')),
    "zero-inputs": (None, lambda t: ({"inputs": []}, "exactly one tensor")),
    "two-inputs": (None, lambda t: ({"inputs": t.body(t.items)["inputs"] * 2}, "exactly one tensor")),
    "input-not-an-object": (None, lambda t: ({"inputs": [INPUT]}, "exactly one tensor")),
    "unknown-output": (
        None,
        lambda t: ({**t.body(t.items), "outputs": [{"name": "species"}]}, "unknown output 'species'"),
    ),
    "outputs-not-a-list": (None, lambda t: ({**t.body(t.items), "outputs": {"name": "x"}}, '"outputs" must be a list')),
    "output-not-an-object": (None, lambda t: ({**t.body(t.items), "outputs": ["x"]}, '"outputs" must be a list')),
    # Rows of numbers: FP64 (or another numeric datatype) of shape [rows, features].
    "unknown-datatype": ("FP64", lambda t: (t.body(t.items, datatype="FLOAT"), "unsupported datatype 'FLOAT'")),
    "bytes-datatype": ("FP64", lambda t: (t.body(t.items, datatype="BYTES"), "unsupported datatype 'BYTES'")),
    "no-datatype": ("FP64", lambda t: (t.body(t.items, datatype=DROP), "unsupported datatype None")),
    "wrong-width": (
        "FP64",
        lambda t: (t.body(t.items, shape=[2, t.width - 1]), f"shape [2, {t.width - 1}] does not fit"),
    ),
    "one-dimension": ("FP64", lambda t: (t.body(t.items, shape=[2 * t.width]), f"shape [{2 * t.width}] does not fit")),
    "three-dimensions": (
        "FP64",
        lambda t: (t.body(t.items, shape=[2, 1, t.width]), f"shape [2, 1, {t.width}] does not fit"),
    ),
    "zero-rows": (
        "FP64",
        lambda t: (t.body(t.items, shape=[0, t.width], data=[]), f"shape [0, {t.width}] does not fit"),
    ),
    "boolean-in-shape": (
        "FP64",
        lambda t: (t.body(t.items, shape=[True, t.width]), f"shape [True, {t.width}] does not fit"),
    ),
    "string-in-shape": (
        "FP64",
        lambda t: (t.body(t.items, shape=["2", t.width]), f"shape ['2', {t.width}] does not fit"),
    ),
    "no-shape": ("FP64", lambda t: (t.body(t.items, shape=DROP), "shape None does not fit")),
    "data-not-a-list": ("FP64", lambda t: (t.body(t.items, data="6.8, 2.8"), '"data" must be a list')),
    "flat-length-mismatch": (
        "FP64",
        lambda t: (
            t.body(t.items, nested=False, data=[*t.items[0], *t.items[1]][:-3]),
            f"data holds {2 * t.width - 3} values, its shape [2, {t.width}] needs {2 * t.width}",
        ),
    ),
    "nested-row-count-mismatch": (
        "FP64",
        lambda t: (t.body(t.items, shape=[3, t.width]), f"data holds 2 rows, its shape [3, {t.width}] says 3"),
    ),
    "nested-row-too-short": (
        "FP64",
        lambda t: (
            t.body(t.items, data=[row[:-1] for row in t.items]),
            f"row 0: has {t.width - 1} values, the model takes {t.width}",
        ),
    ),
    "string-value": (
        "FP64",
        lambda t: (
            t.body([[t.items[0][0], str(t.items[0][1]), *t.items[0][2:]]], nested=False),
            f"row 0, feature '{t.names[1]}': must be a number, not a string",
        ),
    ),
    "boolean-value": (
        "FP64",
        lambda t: (t.body([[True, *t.items[0][1:]]], nested=False), "must be a number, not a boolean"),
    ),
    "null-value": ("FP64", lambda t: (t.body([[None, *t.items[0][1:]]], nested=False), "must be a number, not null")),
    # Texts: BYTES of shape [rows], or [rows, 1] with the data nested by it.
    "numeric-datatype": ("BYTES", lambda t: (t.body(t.items, datatype="FP32"), "unsupported datatype 'FP32'")),
    "no-datatype-for-texts": ("BYTES", lambda t: (t.body(t.items, datatype=DROP), "unsupported datatype None")),
    "two-columns": ("BYTES", lambda t: (t.body(t.items, shape=[2, 2]), "shape [2, 2] does not fit")),
    "three-dimensions-of-texts": (
        "BYTES",
        lambda t: (t.body(t.items, shape=[2, 1, 1]), "shape [2, 1, 1] does not fit"),
    ),
    "zero-texts": ("BYTES", lambda t: (t.body([], nested=False), "shape [0] does not fit")),
    "boolean-in-shape-of-texts": (
        "BYTES",
        lambda t: (t.body(t.items, nested=False, shape=[True]), "shape [True] does not fit"),
    ),
    "no-shape-for-texts": ("BYTES", lambda t: (t.body(t.items, shape=DROP), "shape None does not fit")),
    "texts-not-a-list": ("BYTES", lambda t: (t.body(t.items, data="a text"), '"data" must be a list')),
    "length-mismatch": (
        "BYTES",
        lambda t: (t.body(t.items * 2, shape=[2]), "data holds 4 items, its shape [2] says 2"),
    ),
    "empty-text": ("BYTES", lambda t: (t.body(["", t.items[0]]), "row 0: must not be empty")),
    "number": ("BYTES", lambda t: (t.body([t.items[0], 5], nested=False), "row 1: must be a string, not a number")),
    "nested-list-too-long": (
        "BYTES",
        lambda t: (t.body([t.items], shape=[1, 1]), "row 0: must be a string, not a list"),
    ),
}


@pytest.mark.parametrize(("about", "case"), BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_gets_400_with_the_protocols_error(client, model, name, body, items, datatype, about, case):
    if about not in (None, datatype):
        pytest.skip(f"about {about} inputs")
    names = model.inputs.feature_names
    payload, message = case(types.SimpleNamespace(body=body, items=items, names=names, width=len(names)))
    assert message in assert_protocol_error(client.post(f"/v2/models/{name}/infer", json=payload), 400)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_get_400(client, name, body, example, datatype, literal):
    if datatype != "FP64":
        pytest.skip("the model does not take numbers")
    sent = json.dumps(body([[example[0], "LITERAL", *example[2:]]], nested=False))
    response = client.post(f"/v2/models/{name}/infer", data=sent.replace('"LITERAL"', literal))
    assert "must be a finite number" in assert_protocol_error(response, 400)


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
def test_an_unknown_model_gets_404(client, version, body, items, method, path):
    response = getattr(client, method)(path.replace("VERSION", version), json=body(items) if method == "post" else None)
    assert assert_protocol_error(response, 404) == "model 'nowhere' not found"


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("get", "/ready"), ("post", "/infer")], ids=["metadata", "ready", "infer"]
)
def test_an_unknown_version_gets_404(client, name, body, items, method, suffix):
    response = getattr(client, method)(
        f"/v2/models/{name}/versions/9.9.9{suffix}", json=body(items) if method == "post" else None
    )
    assert assert_protocol_error(response, 404) == f"model '{name}' has no version '9.9.9'"


@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
def test_a_batch_over_the_row_limit_gets_413(client, config, name, body, example, nested):
    response = client.post(
        f"/v2/models/{name}/infer", json=body([example] * (config.server.max_batch_rows + 1), nested)
    )
    assert str(config.server.max_batch_rows) in assert_protocol_error(response, 413)


def test_a_body_over_the_size_limit_gets_413(make_config, config, name, body, items):
    small = make_config(model={"artifact_path": config.model.artifact_path}, server={"max_request_bytes": 100})
    response = create_app(small).test_client().post(f"/v2/models/{name}/infer", json=body(items, nested=False))
    assert_protocol_error(response, 413)


def test_without_a_model_readiness_is_503_and_liveness_200(unready_client, name):
    live, ready = unready_client.get("/v2/health/live"), unready_client.get("/v2/health/ready")
    assert (live.status_code, live.get_json()) == (200, {"live": True})
    assert (ready.status_code, ready.get_json()) == (503, {"ready": False})
    model_ready = unready_client.get(f"/v2/models/{name}/ready")
    assert (model_ready.status_code, model_ready.get_json()) == (503, {"name": name, "ready": False})
    assert unready_client.get("/v2").status_code == 200


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/infer")], ids=["metadata", "infer"])
def test_without_a_model_metadata_and_infer_get_503(unready_client, name, body, items, method, suffix):
    response = getattr(unready_client, method)(
        f"/v2/models/{name}{suffix}", json=body(items) if method == "post" else None
    )
    assert "absent.skops" in assert_protocol_error(response, 503)


def test_the_rest_of_the_api_keeps_its_own_error_shape(client):
    error = client.post("/predict", json={"inputs": []}).get_json()["error"]
    assert error["code"] == "invalid_input"
    assert client.get("/nowhere").get_json()["error"]["code"] == "not_found"
