"""Values, one number per row (schemas/values.py): what a regressor answers, and in what shape{% if cookiecutter.include_web_ui %};
what the page shows of it{% endif %}.

Written against the model's own target and items from the task's own data, so they hold for any task
whose model is a regressor (regression).
"""

import math
from collections import Counter

import jsonschema
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.errors import (
    ApiError,
)
from {{ cookiecutter.package_name }}.schemas.values import (
    Values,
)


def test_one_item_is_answered_with_one_finite_float(client, one):
    predictions = client.post("/predict", json=one).get_json()["predictions"]
    assert len(predictions) == 1
    assert isinstance(predictions[0], float)
    assert math.isfinite(predictions[0])


def test_a_batch_is_answered_with_a_float_per_row(answer, items):
    predictions = answer["predictions"]
    assert len(predictions) == len(items)
    assert all(isinstance(value, float) and math.isfinite(value) for value in predictions)
    assert len(set(predictions)) > 1


def test_the_answer_is_what_its_schema_says(answer, model):
    """/openapi.json documents the answer from answer_schema(): the two must not drift."""
    schema = model.outputs.answer_schema()
    document = {"type": "object", "properties": schema, "required": list(schema), "additionalProperties": False}
    body = {key: value for key, value in answer.items() if key != "model"}
    jsonschema.validate(body, document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"predictions": [str(value) for value in body["predictions"]]}, document)


@pytest.mark.parametrize(
    ("scores", "rows"),
    [
        ([[1.0], [np.inf], [np.nan]], [1, 2]),
        ([-np.inf], [0]),
    ],
    ids=["column-with-infinity-and-nan", "flat-minus-infinity"],
)
def test_a_row_whose_value_is_not_finite_is_a_422_naming_it(scores, rows):
    """Validation keeps every feature within a magnitude that cannot overflow (test_numbers.py shows it), so no
    request provokes this: the output kind still refuses a row it cannot answer."""
    with pytest.raises(ApiError) as raised:
        Values("target").predict(np.array(scores))
    assert (raised.value.status, raised.value.code) == (422, "invalid_input")
    assert raised.value.message.startswith(f"row {rows[0]}: has values too large for the model to score")
    problem = "has values too large for the model to score"
    assert raised.value.details == [{"row": row, "problem": problem} for row in rows]


def test_a_runtime_s_column_of_values_becomes_one_float_per_row():
    """onnxruntime answers a [rows, 1] column, scikit-learn a flat [rows] array: both become one value per row."""
    values = Values("target")
    column = values.predict(np.array([[1.5], [2.5]], dtype=np.float32))
    assert column.dtype == np.float64
    assert column.tolist() == values.predict(np.array([1.5, 2.5])).tolist() == [1.5, 2.5]


def test_the_csv_has_one_prediction_column(model, answer):
    outputs = model.outputs
    prediction = outputs.predict(np.array(answer["predictions"]))
    assert outputs.csv_header() == ["prediction"]
    assert outputs.csv_cells(prediction) == [[round(value, 6)] for value in answer["predictions"]]


def test_the_metrics_count_rows_under_the_target_s_name(model, answer):
    """A number has no class: the predictions counter's one label is what the model estimates."""
    prediction = model.outputs.predict(np.array(answer["predictions"]))
    assert model.outputs.target == model.metadata["target_name"]
    assert model.outputs.tally(prediction) == Counter({model.metadata["target_name"]: len(answer["predictions"])})


def test_the_page_shows_the_value_rounded_and_names_the_target():
    assert Values("price").page_result(np.array([209.90123])) == {
        "value": "209.901",
        "target": "price",
        "summary": "209.901",
    }


@pytest.mark.parametrize("target", [None, "", 5], ids=["missing", "empty", "not-a-string"])
def test_a_saved_model_s_values_need_a_target_name(target):
    with pytest.raises(ValueError, match="'target_name'"):
        Values.from_metadata({"target_name": target})
{%- if cookiecutter.include_web_ui %}


def test_the_page_says_what_the_model_predicts(client, model, page):
    assert f'<p class="target">{model.outputs.target}, a number</p>' in page.text(client.get("/"))


def test_the_page_shows_the_apis_value(client, model, one, page, page_form):
    response = page.post(client, page_form)
    answer = client.post("/predict", json=one).get_json()
    assert page.prediction(response) == f"{answer['predictions'][0]:.3f}"
    assert f"the model's estimate of {model.outputs.target}" in page.text(response)
{%- endif %}
