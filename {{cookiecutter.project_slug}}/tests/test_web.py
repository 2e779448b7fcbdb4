"""The model card page (GET /, POST /), driven as a browser drives it: form posts and the session cookie.

The page is drawn by the task's kinds, so these tests ask the loaded model what it takes and answers;
a test about one kind's part of the page (a row's fields, a text's textarea, a classifier's classes,
a regressor's target) takes that kind's fixture below and is skipped for a model of another kind.
"""

import argparse
import csv
import dataclasses
import random
import re
from html import unescape

import numpy as np
import pytest

from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.api.openapi import (
    documented_rules,
)
from {{ cookiecutter.package_name }}.api.routes import (
    SECURITY_HEADERS,
)
from {{ cookiecutter.package_name }}.cli import (
    train_command,
)

HOSTILE = '<script>alert("x")</script>'
HOSTILE_SHOWN = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
CSRF_REFUSED = "the form had expired or did not come from this page; it is shown again, send it once more"


def fields_of(inputs, item) -> dict[str, str]:
    """The page's fields (its token aside) as a browser sends them for one item of the API: a row of numbers
    as one text per feature, a text as the textarea's."""
    if isinstance(item, list):
        return dict(zip(inputs.feature_names, map(str, item), strict=True))
    return {"text": item}


def variant(item, step: int):
    """Another item of the example's kind, told apart by `step` (a row: its first value moved by step tenths)."""
    if isinstance(item, list):
        return [round(item[0] + step / 10, 1), *item[1:]]
    return f"Day {step}:\r\n{item}"


def history_cells(item) -> list[str]:
    """What the history shows of an item: a row's values as numbers, a text's start on one line."""
    if isinstance(item, list):
        return [str(float(value)) for value in item]
    words = " ".join(item.split())
    return [words if len(words) <= 80 else words[:79] + "…"]


@pytest.fixture
def example_form(model, example):
    return fields_of(model.inputs, example)


@pytest.fixture
def feature_ranges(model):
    """Each feature's range in training, for a model that takes rows of numbers."""
    return _kind_attribute(model.inputs, "feature_ranges", "the model does not take rows of numbers")


@pytest.fixture
def max_chars(model):
    """The longest text allowed, for a model that takes texts."""
    return _kind_attribute(model.inputs, "max_chars", "the model does not take texts")


@pytest.fixture
def class_labels(model):
    """The classes, for a model that answers classes."""
    return _kind_attribute(model.outputs, "class_labels", "the model does not answer classes")


@pytest.fixture
def target(model):
    """What a regressor estimates, for a model that answers numbers."""
    return _kind_attribute(model.outputs, "target", "the model does not answer numbers")


def _kind_attribute(kind, name: str, otherwise: str):
    if not hasattr(kind, name):
        pytest.skip(otherwise)
    return getattr(kind, name)


def csrf_token(client) -> str:
    """The token the page gives this client (its first GET / starts its session), read as a browser reads it."""
    return re.search(r'name="csrf_token" value="([^"]+)"', text(client.get("/"))).group(1)


def post_form(client, fields: dict, token=None, **changes):
    """POST / with the page's token and `fields`; `changes` replace or (None) drop fields."""
    form = {"csrf_token": token or csrf_token(client), **fields, **changes}
    return client.post("/", data={name: value for name, value in form.items() if value is not None})


def text(response) -> str:
    return response.get_data(as_text=True)


def flashed(response) -> list[str]:
    return [unescape(shown) for shown in re.findall(r'<p class="flash error" role="alert">(.*?)</p>', text(response))]


def prediction(response) -> str | None:
    found = re.search(r'<output id="prediction">(.*?)</output>', text(response))
    return unescape(found.group(1)) if found else None


def form_values(response) -> dict[str, str]:
    """The values the page's form fields hold (its token aside), by field name, as a browser reads them."""
    page = text(response)
    fields = re.findall(r'<input id="[^"]+" name="([^"]+)" value="([^"]*)"', page)
    fields += re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>\n(.*?)</textarea>', page, re.DOTALL)
    return {unescape(name): unescape(value) for name, value in fields}


def history(response) -> list[list[str]]:
    """The history table's rows, newest first: each row's cells, the prediction last."""
    table = re.search(r'<table id="history">.*?<tbody>(.*?)</tbody>', text(response), re.DOTALL).group(1)
    return [
        [unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
    ]


def test_the_page_shows_the_model_card(client, model):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = text(response)
    metadata = client.get("/model").get_json()
    assert f"<h1>{metadata['name']} <span" in page
    assert f"version {metadata['version']}" in page
    assert f"on {metadata['training_rows']} {model.inputs.noun}s;" in page
    assert f"answered by {model.runtime}." in page
    assert metadata["metrics"]
    for name, score in metadata["metrics"].items():
        assert f"<div><dt>{name}</dt><dd>{score}</dd></div>" in page
    assert "<h2>Try it</h2>" in page
    assert prediction(response) is None
    assert '<table id="history">' not in page


def test_a_row_has_one_field_per_feature_with_its_training_range(client, model, feature_ranges):
    page = text(client.get("/"))
    assert list(feature_ranges) == model.inputs.feature_names
    for number, (name, seen) in enumerate(feature_ranges.items(), start=1):
        assert f'<label for="feature-{number}">{name}</label>' in page
        assert f'<td class="range">{seen["min"]} to {seen["max"]}</td>' in page
    assert "<textarea" not in page


def test_a_text_has_one_textarea_with_its_length_limit(client, max_chars):
    page = text(client.get("/"))
    assert f'<label for="text">Your text, at most {max_chars} characters</label>' in page
    assert re.search(r'<textarea id="text" name="text" [^>]*required>\n</textarea>', page)
    assert "feature_ranges" not in client.get("/model").get_json()
    assert 'class="range"' not in page


def test_a_classifier_lists_its_classes(client, class_labels):
    page = text(client.get("/"))
    assert re.findall(r"<li>(.*?)</li>", page) == class_labels


def test_a_regressor_says_what_it_predicts(client, target):
    assert f'<p class="target">{target}, a number</p>' in text(client.get("/"))


def test_the_example_gets_a_prediction_and_the_form_keeps_what_was_sent(client, example_form):
    response = post_form(client, example_form)
    assert response.status_code == 200
    assert flashed(response) == []
    assert prediction(response)
    assert form_values(response) == example_form


def test_a_classifiers_page_shows_the_apis_label_and_probabilities(client, example_form, one, class_labels):
    response = post_form(client, example_form)
    answer = client.post("/predict", json=one).get_json()
    assert prediction(response) == answer["predictions"][0]
    shown = re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="number">([0-9.]+)</td>', text(response))
    assert shown == [(label, f"{p:.3f}") for label, p in zip(class_labels, answer["probabilities"][0], strict=True)]


def test_a_regressors_page_shows_the_apis_value(client, example_form, one, target):
    response = post_form(client, example_form)
    answer = client.post("/predict", json=one).get_json()
    assert prediction(response) == f"{answer['predictions'][0]:.3f}"
    assert f"the model's estimate of {target}" in text(response)


def test_what_the_api_refuses_the_page_flashes_in_the_visitors_words_with_422(client, model, example_form):
    """The page validates as the API does: one message per problem the API names, in the visitor's terms."""
    blank = dict.fromkeys(example_form, "")
    api = client.post("/predict", json={"instances": model.inputs.form_items(blank)})
    assert api.status_code == 422
    response = post_form(client, blank)
    assert response.status_code == 422
    assert flashed(response) == [model.inputs.in_words(detail) for detail in api.get_json()["error"]["details"]]
    assert prediction(response) is None
    assert '<form method="post"' in text(response)


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({1: "abc"}, ["{1}: must be a number, not a string"]),
        (
            {0: "NaN", 2: "1e999"},
            [
                "{0}: must be a finite number of magnitude at most 1e+300 (not NaN or Infinity)",
                "{2}: must be a finite number of magnitude at most 1e+300 (not NaN or Infinity)",
            ],
        ),
        ({3: "  "}, ["no value for {3}"]),
        ({0: None, 3: None}, ["no value for {0}, {3}"]),
    ],
    ids=["not-a-number", "not-finite", "blank", "missing"],
)
def test_bad_values_are_flashed_above_the_form_with_422(client, model, example_form, feature_ranges, changes, messages):
    names = model.inputs.feature_names
    typed = {names[index]: value for index, value in changes.items()}
    response = post_form(client, example_form, **typed)
    assert response.status_code == 422
    assert flashed(response) == [message.format(*names) for message in messages]
    assert prediction(response) is None
    assert form_values(response) == {name: value or "" for name, value in {**example_form, **typed}.items()}


def test_a_typed_value_is_shown_back_escaped(client, model, example_form, feature_ranges):
    response = post_form(client, example_form, **{model.inputs.feature_names[1]: '"><b>5'})
    assert response.status_code == 422
    assert 'value="&#34;&gt;&lt;b&gt;5"' in text(response)
    assert "<b>" not in text(response)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "your text must not be empty or only whitespace"),
        (" \r\n\t ", "your text must not be empty or only whitespace"),
        (None, "your text must not be empty or only whitespace"),
        (1, "your text has {length} characters, more than the limit of {max_chars}"),
    ],
    ids=["empty", "blank", "missing", "too-long"],
)
def test_bad_texts_are_flashed_above_the_form_with_422(client, example_form, max_chars, typed, message):
    if typed == 1:  # one character over the limit
        typed = "x" * (max_chars + 1)
    response = post_form(client, example_form, text=typed)
    assert response.status_code == 422
    assert flashed(response) == [message.format(length=max_chars + 1, max_chars=max_chars)]
    assert prediction(response) is None
    assert form_values(response) == {"text": typed or ""}


def test_line_breaks_count_as_typed_not_as_the_browser_sends_them(client, example, max_chars):
    """A browser sends each line break of a textarea as two characters, CR LF: the limit counts one, as typed."""
    sent = example + "\r\n" * (max_chars - len(example))
    assert len(sent.replace("\r\n", "\n")) == max_chars < len(sent)
    assert post_form(client, {"text": sent}).status_code == 200


def test_a_typed_text_is_shown_back_escaped(client, max_chars):
    response = post_form(client, {"text": f"</textarea>{HOSTILE}"})
    page = text(response)
    assert response.status_code == 200
    assert "<script" not in page
    shown = f"&lt;/textarea&gt;{HOSTILE_SHOWN}"
    assert f"required>\n{shown}</textarea>" in page
    assert f'<td class="snippet">{shown}</td>' in page


def test_five_of_the_longest_texts_still_fit_the_session_cookie(client, max_chars):
    """Browsers drop a cookie over about 4 KB: the history keeps only each text's start, and the session stays
    under the limit even for five texts of the widest characters (4 bytes each in UTF-8), in no repeating order."""
    token = csrf_token(client)
    for seed in range(5):
        pick = random.Random(seed).choices  # noqa: S311 - a repeatable test input, not a secret
        widest = "".join(pick([chr(code) for code in range(0x1F300, 0x1F600)], k=max_chars))
        response = post_form(client, {"text": widest}, token=token)
        assert response.status_code == 200
    assert len(response.headers["Set-Cookie"]) <= response.max_cookie_size
    assert len(history(response)) == 5


@pytest.mark.parametrize("token", [None, "", "x" * 43, "é"], ids=["absent", "empty", "wrong", "non-ascii"])
def test_a_post_without_the_sessions_csrf_token_is_refused_with_400(client, example_form, token):
    csrf_token(client)  # the session, and so its token, exist
    response = client.post("/", data=example_form if token is None else {**example_form, "csrf_token": token})
    assert response.status_code == 400
    assert flashed(response) == [CSRF_REFUSED]
    assert prediction(response) is None


def test_a_token_is_good_only_in_its_own_session(app, model, example):
    visitor, other = app.test_client(), app.test_client()
    fields = fields_of(model.inputs, example)
    assert post_form(other, fields, token=csrf_token(visitor)).status_code == 400
    token = csrf_token(visitor)
    visitor.delete_cookie("session")
    assert post_form(visitor, fields, token=token).status_code == 400
    assert post_form(visitor, fields).status_code == 200  # a new session, its own token


def test_after_a_refused_post_the_page_shown_carries_a_token_that_works(client, example_form):
    refused = client.post("/", data=example_form)  # as from an expired session
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(refused)).group(1)
    assert post_form(client, example_form, token=token).status_code == 200


def test_the_session_keeps_the_last_five_predictions_newest_first(client, model, example, example_form):
    token = csrf_token(client)
    sent, shown = [], []
    for step in range(1, 8):
        item = variant(example, step)
        response = post_form(client, fields_of(model.inputs, item), token=token)
        assert response.status_code == 200
        sent.append(item)
        shown.append(prediction(response))
    post_form(client, dict.fromkeys(example_form, ""), token=token)  # refused: not remembered
    rows = history(client.get("/"))
    assert [cells[:-1] for cells in rows] == [history_cells(item) for item in sent[:1:-1]]
    for cells, answer in zip(rows, shown[:1:-1], strict=True):
        assert cells[-1].startswith(answer)  # "label (probability)", or the value as shown
    with client.session_transaction() as session:  # what the table shows is what the session keeps
        assert [[*map(str, past["example"]), past["prediction"]] for past in session["history"]] == rows


def test_the_session_cookie_is_http_only_and_same_site(client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/", None, 200),
        ("get", "/static/web.css", None, 200),
        ("get", "/health", None, 200),
        ("post", "/predict", "one", 200),
        ("post", "/predict", "null", 422),
        ("get", "/nowhere", None, 404),
    ],
)
def test_every_answer_carries_the_security_headers(client, model, one, method, path, body, status):
    json = {"one": one, "null": {model.inputs.single: None}, None: None}[body]
    response = getattr(client, method)(path, json=json)
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_page_needs_nothing_its_content_security_policy_forbids(client, example_form):
    page = text(post_form(client, example_form))
    assert re.search(r"<script|<style|\sstyle=|\son[a-z]+=|https?://", page) is None
    assert text(client.get("/static/web.css")).startswith("/*")


@pytest.fixture
def hostile_client(make_config, model, example, tmp_path):
    """A model trained, through the real CLI, on data whose names are HTML: the model's, the target's, a
    feature's (rows of numbers) and a class's (a classifier). It answers HOSTILE for a low row, an alert text."""
    classifier = hasattr(model.outputs, "class_labels")
    header = ["length", "<i>width</i>", HOSTILE] if isinstance(example, list) else ["text", HOSTILE]
    data = tmp_path / "data.csv"
    with data.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row in range(20):
            low = row < 10
            if isinstance(example, list):
                features = [(1 if low else 5) + row % 10 / 10, 1 if low else 5]
            else:
                features = [f"{'alert script' if low else 'plain words'} {row}"]
            target = (HOSTILE if low else "plain") if classifier else (10 if low else 100) + row % 10
            writer.writerow([*features, target])
    config = make_config(
        data={"csv_path": str(data), "feature_columns": None, "target_column": HOSTILE},
        model={"name": HOSTILE, "artifact_path": str(tmp_path / "model.skops")},
    )
    train_command(config, argparse.Namespace(if_missing=False))
    return create_app(config).test_client()


def test_names_from_the_model_are_escaped_not_run(hostile_client, example):
    hostile = hostile_client.application.extensions["model_slot"].model
    item = [1.2, 1] if isinstance(example, list) else "alert script"
    response = post_form(hostile_client, fields_of(hostile.inputs, item))
    page = text(response)
    assert response.status_code == 200
    assert "<script" not in page
    assert f"<h1>{HOSTILE_SHOWN} <span" in page
    if hasattr(hostile.outputs, "class_labels"):
        assert prediction(response) == HOSTILE
        assert f"<li>{HOSTILE_SHOWN}</li>" in page
    else:
        assert f"{HOSTILE_SHOWN}, a number" in page
    if isinstance(example, list):
        assert "<i>" not in page
        assert 'name="&lt;i&gt;width&lt;/i&gt;"' in page


def test_without_a_model_the_page_says_why_with_503(make_config, tmp_path, model, example):
    app = create_app(
        make_config(model={"artifact_path": str(tmp_path / "absent.skops")}, server={"require_model": False})
    )
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "absent.skops" in flashed(response)[0]
    assert "<form" not in text(response)
    with client.session_transaction() as session:  # the page has no form to carry it, but the session has one
        token = session["csrf_token"]
    refused = post_form(client, fields_of(model.inputs, example), token=token)
    assert refused.status_code == 503
    assert "absent.skops" in flashed(refused)[0]


def test_values_the_model_cannot_score_are_flashed_with_422(app, client, model, example_form, monkeypatch):
    """A runtime that answers NaN for a row (e.g. overflowing probabilities) gets the API's 422, not a 500."""
    not_a_number = dataclasses.replace(model, scores=lambda features: model.scores(features) * np.nan)
    monkeypatch.setattr(app.extensions["model_slot"], "model", not_a_number)
    response = post_form(client, example_form)
    assert response.status_code == 422
    assert len(flashed(response)) == 1
    assert "too large for the model to score" in flashed(response)[0]
    assert prediction(response) is None


def test_the_page_is_left_out_of_the_api_document(app, client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
    assert {rule.rule for rule in app.url_map.iter_rules()} - {rule.rule for rule in documented_rules(app)} == {
        "/",
        "/static/<path:filename>",
    }
