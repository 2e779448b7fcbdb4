"""Rows of numbers (schemas/numbers.py): what a row may be and how each wrong one is named.

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
