"""Texts (schemas/texts.py): what a text may be, how each wrong one is named, and how the page reads and shows one.

Written against the model's own input kind and the config's limit (inputs.max_chars), so they hold for
any task whose items are texts.
"""

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.schemas.texts import (
    SNIPPET_CHARS,
    Texts,
)


@pytest.fixture
def max_chars(config):
    return config.inputs["max_chars"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "must not be empty or only whitespace"),
        (" \n\t", "must not be empty or only whitespace"),
        (5, "must be a string, not a number"),
        (True, "must be a string, not a boolean"),
        (None, "must be a string, not null"),
        (["a text"], "must be a string, not a list"),
        ({"text": "a text"}, "must be a string, not an object"),
    ],
    ids=["empty", "whitespace", "number", "boolean", "null", "list", "object"],
)
def test_invalid_texts_get_422_naming_the_row(client, assert_error, text, problem):
    error = assert_error(client.post("/predict", json={"text": text}), 422, "invalid_input")
    assert error["details"] == [{"row": 0, "problem": problem}]


@pytest.mark.parametrize("character", ["a", "é"], ids=["ascii", "two-bytes-in-utf8"])
def test_a_text_over_the_length_limit_gets_422(client, max_chars, assert_error, character):
    """The limit counts characters, not bytes: a text of accented letters gets as many as one of plain ones."""
    assert client.post("/predict", json={"text": character * max_chars}).status_code == 200
    error = assert_error(client.post("/predict", json={"text": character * (max_chars + 1)}), 422, "invalid_input")
    problem = f"has {max_chars + 1} characters, more than the limit of {max_chars}"
    assert error["details"] == [{"row": 0, "problem": problem}]


def test_every_problem_in_a_batch_is_listed(client, example, assert_error):
    error = assert_error(client.post("/predict", json={"instances": ["", example, 3]}), 422, "invalid_input")
    assert error["details"] == [
        {"row": 0, "problem": "must not be empty or only whitespace"},
        {"row": 2, "problem": "must be a string, not a number"},
    ]
    assert error["message"] == "row 0: must not be empty or only whitespace"


def test_valid_texts_reach_the_model_as_they_were_sent(model, example):
    """Leading and trailing whitespace is the model's business, not validation's: nothing is stripped."""
    texts = model.inputs.validate([example, f"  {example}\n"], 2)
    assert texts.tolist() == [example, f"  {example}\n"]


def test_the_form_s_line_breaks_count_as_one_character_each(model, max_chars):
    """A browser sends a textarea's line breaks as CR LF: made LF again, a text typed at the limit is within it."""
    typed = "line\n" * (max_chars // 5)
    sent = typed.replace("\n", "\r\n")
    (text,) = model.inputs.form_items({"text": sent})
    assert text == typed
    assert model.inputs.validate([text], 1).tolist() == [typed]


def test_a_form_without_its_text_is_an_empty_text_for_validation_to_refuse(model):
    assert model.inputs.form_items({}) == [""]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("  two\r\n\twords ", "two words"),
        ("w" * SNIPPET_CHARS, "w" * SNIPPET_CHARS),
        ("w" * (SNIPPET_CHARS + 1), "w" * (SNIPPET_CHARS - 1) + "…"),
        ("word " * 40, ("word " * 40)[: SNIPPET_CHARS - 1] + "…"),
    ],
    ids=["whitespace", "at-the-limit", "one-over", "long"],
)
def test_the_page_s_history_keeps_the_text_s_start(model, text, shown):
    """The whole session must fit a cookie: the history keeps at most SNIPPET_CHARS characters of a text."""
    (cell,) = model.inputs.history_cells(np.array([text], dtype=object))
    assert cell == shown
    assert len(cell) <= SNIPPET_CHARS


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        (
            {"row": 0, "problem": "must not be empty or only whitespace"},
            "your text must not be empty or only whitespace",
        ),
        ({"problem": "the model is not ready"}, "the model is not ready"),
    ],
    ids=["the-text", "not-the-text"],
)
def test_a_problem_is_put_for_the_page_about_the_text_without_row_numbers(detail, words):
    assert Texts.in_words(detail) == words


@pytest.mark.parametrize(
    ("metadata", "settings", "problem"),
    [
        ({"feature_names": ["text", "title"]}, {"max_chars": 10}, "one text column"),
        ({"feature_names": ["text"]}, {"max_chars": 10, "min_chars": 1}, "unknown input setting"),
        ({"feature_names": ["text"]}, {}, "'max_chars' must be a positive integer"),
        ({"feature_names": ["text"]}, {"max_chars": 0}, "'max_chars' must be a positive integer"),
        ({"feature_names": ["text"]}, {"max_chars": True}, "'max_chars' must be a positive integer"),
    ],
    ids=["two-columns", "unknown-setting", "no-limit", "zero", "boolean"],
)
def test_a_saved_model_s_texts_need_one_column_and_a_limit(metadata, settings, problem):
    with pytest.raises(ValueError, match=problem):
        Texts.from_metadata(metadata, settings)


def test_the_limit_is_the_config_s(make_config, config, assert_error):
    """inputs.max_chars reaches the served model: a lower limit refuses what the default accepts."""
    strict = make_config(model={"artifact_path": config.model.artifact_path}, inputs={"max_chars": 10})
    client = create_app(strict).test_client()
    assert client.post("/predict", json={"text": "w" * 10}).status_code == 200
    assert_error(client.post("/predict", json={"text": "w" * 11}), 422, "invalid_input")
