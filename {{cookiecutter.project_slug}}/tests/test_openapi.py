"""GET /openapi.json: an OpenAPI 3.1 document of every API route, whose schemas are the service's own rules.

The request schema is checked against the service itself: for a corpus of good and bad bodies, a
JSON Schema validator says valid exactly when POST /predict answers 200.
"""

import dataclasses
import itertools
import re

import numpy as np
import pytest
from flask import Blueprint
from jsonschema import Draft202012Validator

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.api.openapi import (
    OPERATIONS,
    build_document,
    documented_rules,
    undocumented,
)

METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_document_is_openapi_3_1_with_resolvable_references(document):
    assert document["openapi"] == "3.1.0"
    assert {"title", "version"} <= document["info"].keys()
    references = re.findall(r'"\$ref": "#/components/([^/]+)/([^"]+)"', str(document).replace("'", '"'))
    assert references
    for section, name in references:
        assert name in document["components"][section]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert method in METHODS
            assert operation["responses"]
            assert set(re.findall(r"{(\w+)}", path)) == {parameter["name"] for parameter in operation["parameters"]}


def test_every_schema_is_valid_json_schema(document):
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for content in response.get("content", {}).values():
                    Draft202012Validator.check_schema(content["schema"])


def test_every_route_of_the_app_is_in_the_document(app, document):
    for rule in documented_rules(app):
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], rule.rule
        assert {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}} == set(document["paths"][path])


def test_a_route_without_a_description_breaks_the_document(app, model, monkeypatch):
    monkeypatch.delitem(OPERATIONS, "api.health")
    with pytest.raises(KeyError, match="/health"):
        build_document(app, model)


def test_only_a_blueprint_that_says_it_is_no_api_is_left_out(config, model):
    app = create_app(config)
    pages = undocumented(Blueprint("pages", __name__))
    pages.add_url_rule("/page", "page", lambda: "<p>for people</p>")
    app.register_blueprint(pages)
    app.register_blueprint(pages, name="more_pages", url_prefix="/more")
    routes = {rule.rule for rule in documented_rules(app)}
    assert {"/page", "/more/page"}.isdisjoint(routes)
    assert {"/health", "/predict", "/openapi.json"} <= routes
    assert "/page" not in build_document(app, model)["paths"]


def test_predict_documents_every_status_it_answers(document):
    responses = document["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "503", "500"} <= set(responses)
    assert responses["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_schemas_are_the_models_and_the_configs(document, app, model):
    schemas = document["components"]["schemas"]
    assert schemas[model.inputs.schema_name] == model.inputs.item_schema()
    request = schemas["PredictRequest"]["oneOf"]
    assert [list(choice["properties"]) for choice in request] == [[model.inputs.single], ["instances"]]
    assert request[1]["properties"]["instances"]["maxItems"] == app.config["MAX_BATCH_ROWS"]
    answer = schemas["PredictResponse"]["properties"]
    assert answer == {**model.outputs.answer_schema(), "model": schemas["ModelId"]}


def test_the_answers_match_their_schemas(client, schema_validator, one, example):
    for body in (one, {"instances": [example, example]}):
        answer = client.post("/predict", json=body).get_json()
        assert not list(schema_validator("PredictResponse").iter_errors(answer))
    error = client.post("/predict", json={}).get_json()
    assert not list(schema_validator("Error").iter_errors(error))


def request_bodies(model, example, max_rows: int) -> dict[str, object]:
    """Bodies to POST /predict, good and bad, the same for any task (each kind's tests add their own)."""
    single = model.inputs.single
    return {
        "example": {single: example},
        "batch": {"instances": [example, example]},
        "full-batch": {"instances": [example] * max_rows},
        "over-full-batch": {"instances": [example] * (max_rows + 1)},
        "empty-batch": {"instances": []},
        "batch-not-a-list": {"instances": example},
        "both-keys": {single: example, "instances": [example]},
        "extra-key": {single: example, "id": 1},
        "no-key": {},
        "wrong-key": {"inputs": [example]},
        "body-a-list": [example],
        "body-a-string": "example",
        "body-null": None,
        "item-null": {single: None},
        "item-a-number": {single: 1},
        "item-an-object": {single: {"value": 1}},
        "one-bad-item-in-a-batch": {"instances": [example, None]},
    }


def test_the_request_schema_accepts_exactly_what_the_service_does(model, example, app, schema_disagreements):
    """The document's PredictRequest and the validation cannot drift: each body is valid by the schema exactly
    when /predict answers 200 (and anything else it answers is a 4xx, not an error of the service)."""
    assert schema_disagreements(request_bodies(model, example, app.config["MAX_BATCH_ROWS"])) == []


def test_the_v2_bodies_the_service_answers_are_valid_infer_requests(client, schema_validator, model, example, config):
    """The protocol's schema cannot tie the data's length to its shape (that is answered 400), but every
    tensor /v2 answers is valid by it, and one of another datatype is not."""
    datatype, shape = model.inputs.v2_metadata().values()
    rows = [example if isinstance(example, list) else [example]] * 2
    nested = {"name": "input-0", "datatype": datatype, "shape": [2, len(rows[0])], "data": rows}
    flat = {**nested, "shape": [2 if size == -1 else size for size in shape], "data": list(itertools.chain(*rows))}
    validator = schema_validator("InferRequest")
    for tensor in (nested, flat):
        body = {"inputs": [tensor], "outputs": [{"name": model.outputs.output_names[0]}]}
        assert client.post(f"/v2/models/{config.model.name}/infer", json=body).status_code == 200
        assert validator.is_valid(body), list(validator.iter_errors(body))
    other = {**nested, "datatype": "BOOL"}
    assert not validator.is_valid({"inputs": [other]})
    assert not validator.is_valid({"inputs": [nested], "outputs": [{"name": "no-such-output"}]})


def test_the_document_is_built_once_per_app(client, app):
    first = client.get("/openapi.json").get_json()
    built = app.extensions["openapi_document"][1]
    assert built is not None
    assert client.get("/openapi.json").get_json() == first
    assert app.extensions["openapi_document"][1] is built  # the same object: not built again for the second request


def test_without_a_model_items_and_answers_are_generic_until_one_loads(make_config, tmp_path, copy_model, model):
    artifact = tmp_path / "model.skops"
    app = create_app(make_config(model={"artifact_path": str(artifact)}, server={"require_model": False}))
    client = app.test_client()
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert model.inputs.schema_name not in schemas
    assert "items" not in schemas["PredictResponse"]["properties"]["predictions"]
    copy_model(artifact)
    app.extensions["model_slot"]._tried_at = float("-inf")
    assert client.get("/ready").status_code == 200
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas[model.inputs.schema_name] == model.inputs.item_schema()
    assert "items" in schemas["PredictResponse"]["properties"]["predictions"]


def test_rows_the_model_cannot_score_are_refused(app, client, config, model, one, monkeypatch):
    """A runtime that answers NaN (e.g. overflowing probabilities) gets a 422 naming the row from /predict
    and the protocol's 400 from /v2, not a 500."""
    not_a_number = dataclasses.replace(model, scores=lambda features: model.scores(features) * np.nan)
    monkeypatch.setattr(app.extensions["model_slot"], "model", not_a_number)
    response = client.post("/predict", json=one)
    assert response.status_code == 422
    (detail,) = response.get_json()["error"]["details"]
    assert detail == {"row": 0, "problem": "has values too large for the model to score"}
    datatype, shape = model.inputs.v2_metadata().values()
    row = one[model.inputs.single]
    tensor = {"name": "input-0", "datatype": datatype, "shape": [1, *shape[1:]], "data": [row]}
    response = client.post(f"/v2/models/{config.model.name}/infer", json={"inputs": [tensor]})
    assert response.status_code == 400
    assert "too large for the model" in response.get_json()["error"]
