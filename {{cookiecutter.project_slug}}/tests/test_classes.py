"""Class labels with probabilities (schemas/classes.py): what a classifier answers, and in what shape{% if cookiecutter.include_web_ui %};
what the page shows of it{% endif %}.

Written against the model's own classes and items from the task's own data, so they hold for any task
whose model is a classifier (tabular, text).
"""

{% if cookiecutter.include_web_ui -%}
import re
{% endif -%}
from collections import Counter

import jsonschema
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.errors import (
    ApiError,
)
from {{ cookiecutter.package_name }}.schemas.classes import (
    Classes,
)


def test_the_classes_are_the_model_s_in_its_column_order(answer, model):
    assert answer["classes"] == model.outputs.class_labels == model.metadata["class_labels"]


def test_predictions_are_the_most_probable_labels(answer, items):
    probabilities = np.array(answer["probabilities"])
    assert len(answer["predictions"]) == len(probabilities) == len(items)
    assert answer["predictions"] == [answer["classes"][column] for column in probabilities.argmax(axis=1)]
    assert len(set(answer["predictions"])) > 1


def test_each_row_s_probabilities_are_a_distribution_over_the_classes(answer):
    probabilities = np.array(answer["probabilities"])
    assert probabilities.shape == (len(answer["predictions"]), len(answer["classes"]))
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert probabilities.sum(axis=1) == pytest.approx(1)


def test_the_answer_is_what_its_schema_says(answer, model):
    """/openapi.json documents the answer from answer_schema(): the two must not drift."""
    schema = model.outputs.answer_schema()
    document = {"type": "object", "properties": schema, "required": list(schema), "additionalProperties": False}
    body = {key: value for key, value in answer.items() if key != "model"}
    jsonschema.validate(body, document)
    assert schema["classes"]["items"]["enum"] == answer["classes"]
    short_row = {**body, "probabilities": [row[:-1] for row in body["probabilities"]]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(short_row, document)


@pytest.mark.parametrize(
    ("scores", "rows"),
    [
        ([[0.5, 0.5], [np.nan, np.nan], [np.inf, 0.0]], [1, 2]),
        ([[np.nan, 0.0]], [0]),
        ([[0.2, 0.8], [0.9, -np.inf]], [1]),
    ],
    ids=["nan-and-infinity", "one-row", "minus-infinity"],
)
def test_a_row_whose_probabilities_are_not_finite_is_a_422_naming_it(scores, rows):
    """Validation keeps every feature within a magnitude that cannot overflow (test_numbers.py shows it for rows
    of numbers), so no request provokes this: the output kind still refuses a row it cannot answer."""
    with pytest.raises(ApiError) as raised:
        Classes(["a", "b"]).predict(np.array(scores))
    assert (raised.value.status, raised.value.code) == (422, "invalid_input")
    assert raised.value.message.startswith(f"row {rows[0]}: has values too large for the model to score")
    problem = "has values too large for the model to score"
    assert raised.value.details == [{"row": row, "problem": problem} for row in rows]


def test_finite_probabilities_become_labels_and_a_float_array():
    prediction = Classes(["a", "b", "c"]).predict(np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], dtype=np.float32))
    assert prediction.labels == ["b", "a"]
    assert prediction.probabilities.dtype == np.float64
    assert prediction.probabilities.flags["C_CONTIGUOUS"]


def test_the_csv_has_the_label_and_one_probability_column_per_class(model, answer):
    outputs = model.outputs
    prediction = outputs.predict(np.array(answer["probabilities"]))
    header, cells = outputs.csv_header(), outputs.csv_cells(prediction)
    assert header == ["prediction", *(f"probability_{label}" for label in outputs.class_labels)]
    assert [row[0] for row in cells] == answer["predictions"]
    assert all(len(row) == len(header) for row in cells)
    assert np.array([row[1:] for row in cells]) == pytest.approx(np.array(answer["probabilities"]), abs=1e-6)


def test_the_metrics_count_rows_by_predicted_class(model, answer):
    prediction = model.outputs.predict(np.array(answer["probabilities"]))
    assert model.outputs.tally(prediction) == Counter(answer["predictions"])


def test_the_page_shows_the_label_its_probabilities_and_a_short_form_for_the_history():
    result = Classes(["a", "b"]).page_result(Classes(["a", "b"]).predict(np.array([[0.25, 0.75]])))
    assert result == {"label": "b", "probabilities": [("a", 0.25), ("b", 0.75)], "summary": "b (0.750)"}


@pytest.mark.parametrize("labels", [None, ["only"], ["a", 2]], ids=["missing", "one-class", "not-a-string"])
def test_a_saved_model_s_classes_are_at_least_two_labels(labels):
    with pytest.raises(ValueError, match="'class_labels'"):
        Classes.from_metadata({"class_labels": labels})
{%- if cookiecutter.include_web_ui %}


def test_the_page_lists_the_classes(client, model, page):
    assert re.findall(r"<li>(.*?)</li>", page.text(client.get("/"))) == model.outputs.class_labels


def test_the_page_shows_the_apis_label_and_probabilities(client, model, one, page, page_form):
    response = page.post(client, page_form)
    answer = client.post("/predict", json=one).get_json()
    assert page.prediction(response) == answer["predictions"][0]
    shown = re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="number">([0-9.]+)</td>', page.text(response))
    labels = model.outputs.class_labels
    assert shown == [(label, f"{p:.3f}") for label, p in zip(labels, answer["probabilities"][0], strict=True)]
{%- endif %}
