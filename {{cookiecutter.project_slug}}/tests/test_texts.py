"""Texts (schemas/texts.py): what a text may be, how each wrong one is named (by /predict, and by /v2: BYTES
tensors of shape [rows] or [rows, 1]), and how the page reads and shows one.

Written against the model's own input kind and the config's limit (inputs.max_chars), so they hold for
any task whose items are texts.
"""

{% if cookiecutter.include_web_ui -%}
import random
import re

{% endif -%}
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
        ("", "must not be empty or only whitespace and invisible characters"),
        (" \n\t", "must not be empty or only whitespace and invisible characters"),
        ("\u200b\u200d\ufeff", "must not be empty or only whitespace and invisible characters"),
        ("\x00\x1f \u202e", "must not be empty or only whitespace and invisible characters"),
        (5, "must be a string, not a number"),
        (True, "must be a string, not a boolean"),
        (None, "must be a string, not null"),
        (["a text"], "must be a string, not a list"),
        ({"text": "a text"}, "must be a string, not an object"),
    ],
    ids=["empty", "whitespace", "zero-width", "controls", "number", "boolean", "null", "list", "object"],
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
        {"row": 0, "problem": "must not be empty or only whitespace and invisible characters"},
        {"row": 2, "problem": "must be a string, not a number"},
    ]
    assert error["message"] == "row 0: must not be empty or only whitespace and invisible characters"


def test_texts_shorter_or_longer_than_any_in_training_are_counted(model):
    shortest, longest = model.inputs.lengths
    assert 0 < shortest <= longest
    seen = ["x" * shortest, "x" * longest]
    assert model.inputs.out_of_range(np.array(seen, dtype=object)) == {}
    unseen = ["x" * (shortest - 1), "x" * (longest + 1), "x" * longest]
    assert model.inputs.out_of_range(np.array(unseen, dtype=object)) == {"text_length": 2}


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
            {"row": 0, "problem": "must not be empty or only whitespace and invisible characters"},
            "your text must not be empty or only whitespace and invisible characters",
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


def test_the_v2_metadata_says_texts_are_bytes_one_per_row(client, v2):
    """A /v2 client builds its tensor as the model's metadata says: BYTES, of shape [rows]."""
    (tensor,) = client.get(f"/v2/models/{v2.name}").get_json()["inputs"]
    assert tensor == {"name": v2.INPUT, "datatype": "BYTES", "shape": [-1]}


# id: t -> (a /v2 body, a part of its 400's message), from conftest's v2 (t.body builds a body, t.items holds
# two texts, t.DROP leaves a field out).
BAD_TENSORS = {
    "numeric-datatype": lambda t: (t.body(t.items, datatype="FP32"), "unsupported datatype 'FP32'"),
    "no-datatype": lambda t: (t.body(t.items, datatype=t.DROP), "unsupported datatype None"),
    "two-columns": lambda t: (t.body(t.items, shape=[2, 2]), "shape [2, 2] does not fit"),
    "three-dimensions": lambda t: (t.body(t.items, shape=[2, 1, 1]), "shape [2, 1, 1] does not fit"),
    "zero-texts": lambda t: (t.body([], nested=False), "shape [0] does not fit"),
    "boolean-in-shape": lambda t: (t.body(t.items, nested=False, shape=[True]), "shape [True] does not fit"),
    "no-shape": lambda t: (t.body(t.items, shape=t.DROP), "shape None does not fit"),
    "texts-not-a-list": lambda t: (t.body(t.items, data="a text"), '"data" must be a list'),
    "length-mismatch": lambda t: (t.body(t.items * 2, shape=[2]), "data holds 4 items, its shape [2] says 2"),
    "empty-text": lambda t: (t.body(["", t.items[0]]), "row 0: must not be empty"),
    "number": lambda t: (t.body([t.items[0], 5], nested=False), "row 1: must be a string, not a number"),
    "nested-list-too-long": lambda t: (t.body([t.items], shape=[1, 1]), "row 0: must be a string, not a list"),
}


@pytest.mark.parametrize("case", BAD_TENSORS.values(), ids=BAD_TENSORS.keys())
def test_a_bad_tensor_gets_400_with_the_protocols_error(client, v2, case):
    payload, message = case(v2)
    assert message in v2.error(client.post(v2.infer, json=payload), 400)
{%- if cookiecutter.include_web_ui %}


def test_the_page_has_one_textarea_with_its_length_limit(client, max_chars, page):
    html = page.text(client.get("/"))
    assert f'<label for="text">Your text, at most {max_chars} characters</label>' in html
    assert re.search(r'<textarea id="text" name="text" [^>]*required>\n</textarea>', html)
    assert "feature_ranges" not in client.get("/model").get_json()
    assert 'class="range"' not in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "your text must not be empty or only whitespace and invisible characters"),
        (" \r\n\t ", "your text must not be empty or only whitespace and invisible characters"),
        (None, "your text must not be empty or only whitespace and invisible characters"),
        (1, "your text has {length} characters, more than the limit of {max_chars}"),
    ],
    ids=["empty", "blank", "missing", "too-long"],
)
def test_bad_texts_are_flashed_above_the_form_with_422(client, max_chars, page, page_form, typed, message):
    if typed == 1:  # one character over the limit
        typed = "x" * (max_chars + 1)
    response = page.post(client, page_form, text=typed)
    assert response.status_code == 422
    assert page.flashed(response) == [message.format(length=max_chars + 1, max_chars=max_chars)]
    assert page.prediction(response) is None
    assert page.form_values(response) == {"text": typed or ""}


def test_line_breaks_count_as_typed_not_as_the_browser_sends_them(client, example, max_chars, page):
    """A browser sends each line break of a textarea as two characters, CR LF: the limit counts one, as typed."""
    sent = example + "\r\n" * (max_chars - len(example))
    assert len(sent.replace("\r\n", "\n")) == max_chars < len(sent)
    assert page.post(client, {"text": sent}).status_code == 200


def test_a_typed_text_is_shown_back_escaped(client, page):
    response = page.post(client, {"text": f"</textarea>{page.HOSTILE}"})
    html = page.text(response)
    assert response.status_code == 200
    assert "<script" not in html
    shown = f"&lt;/textarea&gt;{page.HOSTILE_SHOWN}"
    assert f"required>\n{shown}</textarea>" in html
    assert f'<td class="snippet">{shown}</td>' in html


def test_five_of_the_longest_texts_still_fit_the_session_cookie(client, max_chars, page):
    """Browsers drop a cookie over about 4 KB: the history keeps only each text's start, and the session stays
    under the limit even for five texts of the widest characters (4 bytes each in UTF-8), in no repeating order."""
    token = page.csrf_token(client)
    for seed in range(5):
        pick = random.Random(seed).choices  # noqa: S311 - a repeatable test input, not a secret
        widest = "".join(pick([chr(code) for code in range(0x1F300, 0x1F600)], k=max_chars))
        response = page.post(client, {"text": widest}, token=token)
        assert response.status_code == 200
    assert len(response.headers["Set-Cookie"]) <= response.max_cookie_size
    assert len(page.history(response)) == 5
{%- endif %}


def test_the_request_schema_accepts_exactly_the_texts_the_service_does(model, example, schema_disagreements):
    """/openapi.json's Text and the validation cannot drift: each body is valid by the schema exactly when
    /predict answers 200 (test_openapi.py does the same for the bodies of any kind)."""
    single, limit = model.inputs.single, model.inputs.max_chars
    bodies = {
        "item-a-list": {single: [example]},
        "empty-text": {single: ""},
        "blank-text": {single: " \n\t "},
        "one-character": {single: "a"},
        "at-the-length-limit": {single: "x" * limit},
        "over-the-length-limit": {single: "x" * (limit + 1)},
    }
    assert schema_disagreements(bodies) == []
