"""Rows of numbers (schemas/numbers.py): what a row may be and how each wrong one is named,
by /predict, by /v2 (FP64 tensors of shape [rows, features]){% if cookiecutter.include_web_ui %} and by the page (a field per feature){% endif %}.

Written against the model's own feature names and the task's example row, so they hold for any task
whose items are rows of numbers (tabular, regression).
"""

import itertools
import json

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.schemas.numbers import (
    MAX_MAGNITUDE,
    NumberRows,
)


@pytest.fixture
def names(model):
    return model.inputs.feature_names


@pytest.fixture
def named(names):
    """named(row) -> the same row as an object keyed by feature name."""
    return lambda row: dict(zip(names, row, strict=True))


def replaced(row, index, value):
    """`row` with the value at `index` replaced."""
    return [value if position == index else old for position, old in enumerate(row)]


def post_raw(client, body):
    """Posts JSON text as it is: the stdlib parser reads NaN, Infinity and huge integers, which a client may send."""
    return client.post("/predict", data=body, content_type="application/json")


def test_a_row_keyed_by_name_in_any_order_answers_as_the_list_does(client, example, named):
    by_list = client.post("/predict", json={"features": example}).get_json()
    by_name = dict(reversed(named(example).items()))
    assert client.post("/predict", json={"features": by_name}).get_json() == by_list
    batch = client.post("/predict", json={"instances": [by_name, example]}).get_json()
    assert batch["predictions"] == by_list["predictions"] * 2


def test_values_outside_their_training_range_are_counted_by_feature(model, names):
    ranges = model.inputs.feature_ranges
    inside = [(ranges[name]["min"] + ranges[name]["max"]) / 2 for name in names]
    assert model.inputs.out_of_range(np.array([inside, inside])) == {}
    below = replaced(inside, 0, ranges[names[0]]["min"] - 1)
    above = replaced(below, len(names) - 1, ranges[names[-1]]["max"] + 1)
    edges = [ranges[name]["min"] for name in names]  # the training range includes its ends
    assert model.inputs.out_of_range(np.array([below, above, edges])) == {names[0]: 2, names[-1]: 1}


def test_integers_are_numbers_too(client, example):
    """JSON has one number type: 5 and 5.0 are the same value to the model."""
    integers = [round(value) for value in example]
    as_floats = client.post("/predict", json={"features": [float(value) for value in integers]})
    as_integers = client.post("/predict", json={"features": integers})
    assert as_integers.status_code == 200
    assert as_integers.get_json() == as_floats.get_json()


# Each case: (names, row) -> (payload, the one detail of the 422).
INVALID = {
    "too-few": lambda names, row: (
        {"features": row[:-1]},
        {"row": 0, "problem": f"has {len(row) - 1} values, the model takes {len(row)}"},
    ),
    "too-many": lambda names, row: (
        {"features": [*row, 1.0]},
        {"row": 0, "problem": f"has {len(row) + 1} values, the model takes {len(row)}"},
    ),
    "string": lambda names, row: (
        {"features": replaced(row, 1, str(row[1]))},
        {"row": 0, "feature": names[1], "problem": "must be a number, not a string"},
    ),
    "boolean": lambda names, row: (
        {"features": replaced(row, 0, True)},
        {"row": 0, "feature": names[0], "problem": "must be a number, not a boolean"},
    ),
    "nested-list": lambda names, row: (
        {"features": replaced(row, 0, [row[0]])},
        {"row": 0, "feature": names[0], "problem": "must be a number, not a list"},
    ),
    "object": lambda names, row: (
        {"features": replaced(row, 0, {"value": row[0]})},
        {"row": 0, "feature": names[0], "problem": "must be a number, not an object"},
    ),
    "null": lambda names, row: (
        {"features": replaced(row, 0, None)},
        {"row": 0, "feature": names[0], "problem": "must be a number, not null"},
    ),
    "row-not-a-list": lambda names, row: (
        {"instances": [row, "5.1,3.5"]},
        {"row": 1, "problem": f"must be a list of {len(names)} numbers or an object keyed by feature name"},
    ),
    "unknown-name": lambda names, row: (
        {"features": {**dict(zip(names, row, strict=True)), "colour": 1}},
        {"row": 0, "problem": "feature names do not match the model's", "unknown": ["colour"], "missing": []},
    ),
    "missing-names": lambda names, row: (
        {"features": {names[0]: row[0]}},
        {"row": 0, "problem": "feature names do not match the model's", "unknown": [], "missing": names[1:]},
    ),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_features_get_422_naming_row_and_feature(client, names, example, assert_error, case):
    payload, detail = case(names, example)
    error = assert_error(client.post("/predict", json=payload), 422, "invalid_input")
    assert error["details"] == [detail]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "1e301", "1" + "0" * 400])
def test_non_finite_and_huge_numbers_get_422(client, names, example, assert_error, literal):
    """Python's json reads NaN and Infinity, 1e999 as Infinity, and integers of any size: none may reach the model."""
    body = json.dumps({"features": replaced(example, 1, "LITERAL")}).replace('"LITERAL"', literal)
    error = assert_error(post_raw(client, body), 422, "invalid_input")
    assert error["details"] == [
        {
            "row": 0,
            "feature": names[1],
            "problem": f"must be a finite number of magnitude at most {MAX_MAGNITUDE:g} (not NaN or Infinity)",
        }
    ]


def test_every_row_within_the_magnitude_limit_is_scored(client, config, names):
    """The limit keeps scaling and weighing a row finite: every feature at +-MAX_MAGNITUDE, in every sign
    pattern, is answered (so the model's own overflow check never has to refuse a valid row)."""
    rows = [list(signs) for signs in itertools.product((MAX_MAGNITUDE, -MAX_MAGNITUDE), repeat=len(names))]
    limit = config.server.max_batch_rows
    for start in range(0, len(rows), limit):
        response = client.post("/predict", json={"instances": rows[start : start + limit]})
        assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("value", [True, "1.4", None, 1e301], ids=["boolean", "string", "null", "huge"])
def test_one_bad_value_in_a_full_batch_is_found_and_named(client, config, names, example, assert_error, value):
    """A full batch of good rows takes the fast path; one bad value in its last row must still be found."""
    rows = [list(example) for _ in range(config.server.max_batch_rows)]
    rows[-1][-1] = value
    error = assert_error(client.post("/predict", json={"instances": rows}), 422, "invalid_input")
    assert [(detail["row"], detail["feature"]) for detail in error["details"]] == [(len(rows) - 1, names[-1])]


def test_every_problem_in_a_batch_is_listed(client, names, example, assert_error):
    rows = [replaced(example, 0, "a"), example, [1]]
    error = assert_error(client.post("/predict", json={"instances": rows}), 422, "invalid_input")
    assert [detail["row"] for detail in error["details"]] == [0, 2]
    assert error["message"].startswith(f"row 0, feature '{names[0]}'")


def test_a_valid_batch_becomes_a_float_matrix_in_the_model_s_order(model, names, example, named):
    matrix = model.inputs.validate([example, dict(reversed(named(example).items()))], 2)
    assert matrix.dtype == np.float64
    assert matrix.tolist() == [[float(value) for value in example]] * 2


def test_the_form_becomes_one_named_row_for_validation_to_judge(model, names):
    """Numbers become numbers, other text stays text (validation names it), a blank field is left out (missing)."""
    form = {names[0]: " 1.5 ", names[1]: "abc", names[2]: "  "}
    assert model.inputs.form_items(form) == [{names[0]: 1.5, names[1]: "abc"}]


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        (
            {"row": 0, "problem": "feature names do not match the model's", "unknown": [], "missing": ["a", "b"]},
            "no value for a, b",
        ),
        ({"row": 0, "feature": "a", "problem": "must be a number, not a string"}, "a: must be a number, not a string"),
        ({"row": 0, "problem": "has 3 values, the model takes 4"}, "has 3 values, the model takes 4"),
    ],
    ids=["missing", "feature", "row"],
)
def test_a_problem_is_put_for_the_page_by_feature_without_row_numbers(detail, words):
    assert NumberRows.in_words(detail) == words


def test_the_page_s_history_shows_the_row_s_values(model, example):
    assert model.inputs.history_cells(np.array([example], dtype=np.float64)) == [float(value) for value in example]


@pytest.mark.parametrize(
    ("metadata", "settings", "problem"),
    [
        (
            {"feature_names": ["a"], "feature_ranges": {"a": {"min": 0, "max": 1}}},
            {"limit": 5},
            "no input settings",
        ),
        ({"feature_names": [], "feature_ranges": {}}, {}, "'feature_names'"),
        ({"feature_names": ["a", 1], "feature_ranges": {}}, {}, "'feature_names'"),
        ({"feature_names": ["a", "b"], "feature_ranges": {"a": {"min": 0, "max": 1}}}, {}, "'feature_ranges'"),
    ],
    ids=["settings", "no-names", "name-not-a-string", "range-missing"],
)
def test_a_saved_model_s_rows_are_read_only_from_complete_metadata(metadata, settings, problem):
    with pytest.raises(ValueError, match=problem):
        NumberRows.from_metadata(metadata, settings)


def test_the_v2_metadata_says_rows_are_fp64_of_the_features_width(client, v2, names):
    """A /v2 client builds its tensor as the model's metadata says: FP64, of shape [rows, features]."""
    (tensor,) = client.get(f"/v2/models/{v2.name}").get_json()["inputs"]
    assert tensor == {"name": v2.INPUT, "datatype": "FP64", "shape": [-1, len(names)]}


@pytest.mark.parametrize("numeric", ["INT64", "INT32", "UINT8", "FP16"])
def test_a_tensor_of_any_numeric_datatype_is_answered_as_predict_does(client, v2, example, numeric):
    whole = [round(value) for value in example]
    response = client.post(v2.infer, json=v2.body([whole], datatype=numeric))
    answer = client.post("/predict", json={"instances": [whole]}).get_json()
    assert response.get_json()["outputs"] == v2.outputs(answer)


@pytest.mark.parametrize(
    ("datatype", "value", "message"),
    [
        ("UINT8", -1, "-1 does not fit UINT8: an integer from 0 to 255"),
        ("UINT8", 256, "256 does not fit UINT8: an integer from 0 to 255"),
        ("UINT8", 1.5, "1.5 does not fit UINT8: an integer from 0 to 255"),
        ("UINT8", 1e300, "1e+300 does not fit UINT8"),
        ("INT8", -129, "-129 does not fit INT8: an integer from -128 to 127"),
        ("INT64", 2**63, f"{2**63} does not fit INT64"),
        ("UINT64", -1, "-1 does not fit UINT64: an integer from 0 to 18446744073709551615"),
        ("FP16", 70000, "70000 does not fit FP16: magnitude at most 65504"),
        ("FP32", -1e39, "-1e+39 does not fit FP32: magnitude at most 3.40282e+38"),
    ],
)
@pytest.mark.parametrize("nested", [True, False], ids=["nested", "flat"])
def test_a_value_its_datatype_cannot_hold_gets_400(client, v2, example, datatype, value, message, nested):
    row = [0] * len(example)  # a value every datatype holds, so the error can only name `value`
    response = client.post(v2.infer, json=v2.body([row, [value, *row[1:]]], nested=nested, datatype=datatype))
    assert message in v2.error(response, 400)


# id: (names, t) -> (a /v2 body, a part of its 400's message), from the feature names and t (conftest's v2:
# t.body builds a body, t.items holds two rows, t.DROP leaves a field out).
BAD_TENSORS = {
    "unknown-datatype": lambda names, t: (t.body(t.items, datatype="FLOAT"), "unsupported datatype 'FLOAT'"),
    "bytes-datatype": lambda names, t: (t.body(t.items, datatype="BYTES"), "unsupported datatype 'BYTES'"),
    "no-datatype": lambda names, t: (t.body(t.items, datatype=t.DROP), "unsupported datatype None"),
    "wrong-width": lambda names, t: (
        t.body(t.items, shape=[2, len(names) - 1]),
        f"shape [2, {len(names) - 1}] does not fit",
    ),
    "one-dimension": lambda names, t: (
        t.body(t.items, shape=[2 * len(names)]),
        f"shape [{2 * len(names)}] does not fit",
    ),
    "three-dimensions": lambda names, t: (
        t.body(t.items, shape=[2, 1, len(names)]),
        f"shape [2, 1, {len(names)}] does not fit",
    ),
    "zero-rows": lambda names, t: (
        t.body(t.items, shape=[0, len(names)], data=[]),
        f"shape [0, {len(names)}] does not fit",
    ),
    "boolean-in-shape": lambda names, t: (
        t.body(t.items, shape=[True, len(names)]),
        f"shape [True, {len(names)}] does not fit",
    ),
    "string-in-shape": lambda names, t: (
        t.body(t.items, shape=["2", len(names)]),
        f"shape ['2', {len(names)}] does not fit",
    ),
    "no-shape": lambda names, t: (t.body(t.items, shape=t.DROP), "shape None does not fit"),
    "data-not-a-list": lambda names, t: (t.body(t.items, data="6.8, 2.8"), '"data" must be a list'),
    "flat-length-mismatch": lambda names, t: (
        t.body(t.items, nested=False, data=[*t.items[0], *t.items[1]][:-3]),
        f"data holds {2 * len(names) - 3} values, its shape [2, {len(names)}] needs {2 * len(names)}",
    ),
    "nested-row-count-mismatch": lambda names, t: (
        t.body(t.items, shape=[3, len(names)]),
        f"data holds 2 rows, its shape [3, {len(names)}] says 3",
    ),
    "nested-row-too-short": lambda names, t: (
        t.body(t.items, data=[row[:-1] for row in t.items]),
        f"row 0: has {len(names) - 1} values, the model takes {len(names)}",
    ),
    "string-value": lambda names, t: (
        t.body([[t.items[0][0], str(t.items[0][1]), *t.items[0][2:]]], nested=False),
        f"row 0, feature '{names[1]}': must be a number, not a string",
    ),
    "boolean-value": lambda names, t: (
        t.body([[True, *t.items[0][1:]]], nested=False),
        "must be a number, not a boolean",
    ),
    "null-value": lambda names, t: (t.body([[None, *t.items[0][1:]]], nested=False), "must be a number, not null"),
}


@pytest.mark.parametrize("case", BAD_TENSORS.values(), ids=BAD_TENSORS.keys())
def test_a_bad_tensor_gets_400_with_the_protocols_error(client, names, v2, case):
    payload, message = case(names, v2)
    assert message in v2.error(client.post(v2.infer, json=payload), 400)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_non_finite_numbers_in_a_tensor_get_400(client, v2, example, literal):
    sent = json.dumps(v2.body([[example[0], "LITERAL", *example[2:]]], nested=False))
    response = client.post(v2.infer, data=sent.replace('"LITERAL"', literal))
    assert "must be a finite number" in v2.error(response, 400)
{%- if cookiecutter.include_web_ui %}


def test_the_page_has_one_field_per_feature_with_its_training_range(client, model, names, page):
    html = page.text(client.get("/"))
    feature_ranges = model.inputs.feature_ranges
    assert list(feature_ranges) == names
    for number, (name, seen) in enumerate(feature_ranges.items(), start=1):
        assert f'<label for="feature-{number}">{name}</label>' in html
        assert f'<td class="range">{seen["min"]} to {seen["max"]}</td>' in html
    assert "<textarea" not in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({-1: "abc"}, "{field}: must be a number, not a string"),
        ({0: "NaN", -1: "1e999"}, "{field}: must be a finite number of magnitude at most 1e+300 (not NaN or Infinity)"),
        ({-1: "  "}, "no value for {fields}"),
        ({0: None, -1: None}, "no value for {fields}"),
    ],
    ids=["not-a-number", "not-finite", "blank", "missing"],
)
def test_bad_values_are_flashed_above_the_form_with_422(client, names, page, page_form, changes, message):
    """The first and last fields (one and the same for a single feature): a message for each field, or one naming
    all the fields without a value, in the form's order."""
    typed = {names[index]: value for index, value in changes.items()}
    response = page.post(client, page_form, **typed)
    assert response.status_code == 422
    if "{fields}" in message:
        expected = [message.format(fields=", ".join(typed))]
    else:
        expected = [message.format(field=name) for name in typed]
    assert page.flashed(response) == expected
    assert page.prediction(response) is None
    assert page.form_values(response) == {name: value or "" for name, value in {**page_form, **typed}.items()}


def test_a_typed_value_is_shown_back_escaped(client, names, page, page_form):
    response = page.post(client, page_form, **{names[1]: '"><b>5'})
    assert response.status_code == 422
    assert 'value="&#34;&gt;&lt;b&gt;5"' in page.text(response)
    assert "<b>" not in page.text(response)
{%- endif %}


def test_the_request_schema_accepts_exactly_the_rows_the_service_does(model, example, schema_disagreements):
    """/openapi.json's Row and the validation cannot drift: each body is valid by the schema exactly when
    /predict answers 200 (test_openapi.py does the same for the bodies of any kind)."""
    single, names = model.inputs.single, model.inputs.feature_names
    named = dict(zip(names, example, strict=True))
    bodies = {
        "item-a-string": {single: "1, 2"},
        "short-row": {single: example[:-1]},
        "long-row": {single: [*example, 1]},
        "empty-row": {single: []},
        "nested-row": {single: [example]},
        "string-value": {single: ["1", *example[1:]]},
        "boolean-value": {single: [True, *example[1:]]},
        "null-value": {single: [None, *example[1:]]},
        "integers": {single: [round(value) for value in example]},
        "zeros": {single: [0] * len(example)},
        "largest-magnitude": {single: [1e300, -1e300, *example[2:]]},
        "over-largest-magnitude": {single: [1e301, *example[1:]]},
        "huge-integer": {single: [10**301, *example[1:]]},
        "named-row": {single: named},
        "named-row-missing-one": {single: dict(list(named.items())[1:])},
        "named-row-extra-one": {single: {**named, "unknown": 1}},
        "named-row-bad-value": {single: {**named, names[0]: "1"}},
    }
    assert schema_disagreements(bodies) == []
