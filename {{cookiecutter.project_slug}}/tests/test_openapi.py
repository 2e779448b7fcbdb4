import re

import numpy as np
import pytest
from flask import Blueprint

from {{ cookiecutter.package_name }}.api import (
    app as app_module,
)
from {{ cookiecutter.package_name }}.api import (
    inference_protocol,
)
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.api.openapi import (
    OPERATIONS,
    build_document,
    documented_rules,
    undocumented,
)
from {{ cookiecutter.package_name }}.models.classifier import (
    LoadedModel,
    UnscorableRows,
    predict,
)

{% if cookiecutter.example_task != "text" -%}
NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
{% endif -%}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


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


def test_every_route_of_the_app_is_in_the_document(app, document):
    for rule in documented_rules(app):
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], rule.rule
        assert {method.lower() for method in rule.methods - {"HEAD", "OPTIONS"}} == set(document["paths"][path])


def test_a_route_without_a_description_breaks_the_document(app, monkeypatch):
    monkeypatch.delitem(OPERATIONS, "api.health")
    with pytest.raises(KeyError, match="/health"):
{%- if cookiecutter.example_task == "text" %}
        build_document(app, ["a"])
{%- else %}
        build_document(app, NAMES, ["a"])
{%- endif %}


def test_only_a_blueprint_that_says_it_is_no_api_is_left_out(config):
    app = create_app(config)
    pages = undocumented(Blueprint("pages", __name__))
    pages.add_url_rule("/page", "page", lambda: "<p>for people</p>")
    app.register_blueprint(pages)
    app.register_blueprint(pages, name="more_pages", url_prefix="/more")
    routes = {rule.rule for rule in documented_rules(app)}
    assert {"/page", "/more/page"}.isdisjoint(routes)
    assert {"/health", "/predict", "/openapi.json"} <= routes
{%- if cookiecutter.example_task == "text" %}
    assert "/page" not in build_document(app, ["a"])["paths"]
{%- else %}
    assert "/page" not in build_document(app, NAMES, ["a"])["paths"]
{%- endif %}


def test_predict_documents_every_status_it_answers(document):
    responses = document["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "503", "500"} <= set(responses)
    assert responses["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
{%- if cookiecutter.example_task == "text" %}


def test_the_text_schema_is_the_services(document, app):
    schemas = document["components"]["schemas"]
    assert schemas["Text"]["maxLength"] == app.config["MAX_TEXT_CHARS"]
    assert schemas["Text"]["pattern"] == r"\S"
    batch = schemas["PredictRequest"]["oneOf"][1]["properties"]["instances"]
    assert batch["maxItems"] == app.config["MAX_BATCH_ROWS"]
    labels = schemas["PredictResponse"]["properties"]["predictions"]["items"]["enum"]
    assert labels == ["accountant", "data_scientist", "nurse", "sales", "software_engineer", "teacher"]


{%- else %}


def test_the_feature_schema_is_the_models(document, app):
    schemas = document["components"]["schemas"]
    as_list, as_object = schemas["Row"]["oneOf"]
    assert as_list["minItems"] == as_list["maxItems"] == len(NAMES)
    assert as_object["required"] == NAMES
    assert as_object["additionalProperties"] is False
    batch = schemas["PredictRequest"]["oneOf"][1]["properties"]["instances"]
    assert batch["maxItems"] == app.config["MAX_BATCH_ROWS"]
    labels = schemas["PredictResponse"]["properties"]["predictions"]["items"]["enum"]
    assert labels == ["setosa", "versicolor", "virginica"]
{%- endif %}


def test_the_document_is_built_once_per_app(client, app):
    first = client.get("/openapi.json").get_json()
    assert app.extensions["openapi_document"][1] is not None
    assert client.get("/openapi.json").get_json() == first
{%- if cookiecutter.example_task == "text" %}


def test_without_a_model_labels_are_generic_until_one_loads(make_config, tmp_path, copy_model):
    artifact = tmp_path / "model.skops"
    app = create_app(make_config(model={"artifact_path": str(artifact)}, server={"require_model": False}))
    client = app.test_client()

    def label():
        return client.get("/openapi.json").get_json()["components"]["schemas"]["PredictResponse"]["properties"][
            "predictions"
        ]["items"]

    assert label() == {"type": "string"}
    copy_model(artifact)
    app.extensions["model_slot"]._tried_at = float("-inf")
    assert client.get("/ready").status_code == 200
    assert "enum" in label()
{%- else %}


def test_without_a_model_rows_are_generic_until_one_loads(make_config, tmp_path, copy_model):
    artifact = tmp_path / "model.skops"
    app = create_app(make_config(model={"artifact_path": str(artifact)}, server={"require_model": False}))
    client = app.test_client()
    row = client.get("/openapi.json").get_json()["components"]["schemas"]["Row"]
    assert row["type"] == "array"
    assert "maxItems" not in row
    copy_model(artifact)
    app.extensions["model_slot"]._tried_at = float("-inf")
    assert client.get("/ready").status_code == 200
    assert "oneOf" in client.get("/openapi.json").get_json()["components"]["schemas"]["Row"]
{%- endif %}


def test_rows_the_model_cannot_score_are_refused(client, config, monkeypatch):
    def overflow(*_arguments):
        raise UnscorableRows([0])

    monkeypatch.setattr(app_module, "predict", overflow)
    monkeypatch.setattr(inference_protocol, "predict", overflow)
{%- if cookiecutter.example_task == "text" %}
    response = client.post("/predict", json={"text": "nurse"})
{%- else %}
    response = client.post("/predict", json={"features": [1, 2, 3, 4]})
{%- endif %}
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == [{"row": 0, "problem": "values too large for the model to score"}]
{%- if cookiecutter.example_task == "text" %}
    tensor = {"name": "input-0", "datatype": "BYTES", "shape": [1], "data": ["nurse"]}
{%- else %}
    tensor = {"name": "input-0", "datatype": "FP64", "shape": [1, 4], "data": [1, 2, 3, 4]}
{%- endif %}
    response = client.post(f"/v2/models/{config.model.name}/infer", json={"inputs": [tensor]})
    assert response.status_code == 400
    assert "too large for the model" in response.get_json()["error"]
{%- if cookiecutter.example_task != "text" %}


def test_values_beyond_the_documented_magnitude_are_refused(client):
    response = client.post("/predict", json={"features": [1e301, 2, 3, 4]})
    assert response.status_code == 422
    assert "magnitude at most 1e+300" in response.get_json()["error"]["message"]
    huge = '{"features": [1' + "0" * 301 + ", 2, 3, 4]}"
    assert client.post("/predict", data=huge, content_type="application/json").status_code == 422
    assert client.post("/predict", json={"features": [1e300, 2, 3, 4]}).status_code == 200
{%- endif %}


def test_predict_refuses_rows_whose_probabilities_overflow():
    model = LoadedModel({"class_labels": ["a", "b"]}, lambda rows: np.array([[0.5, 0.5], [np.nan, np.nan]]), "test")
    with pytest.raises(UnscorableRows, match="row 1"):
        predict(model, np.zeros((2, 1)))
