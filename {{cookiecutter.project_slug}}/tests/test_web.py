"""The model card page (GET /, POST /), driven as a browser drives it: form posts and the session cookie."""

import argparse
import csv
{%- if cookiecutter.example_task == "text" %}
import random
{%- endif %}
import re
from html import unescape

import pytest

from {{ cookiecutter.package_name }}.api import (
    web,
)
from {{ cookiecutter.package_name }}.api.app import (
    SECURITY_HEADERS,
    create_app,
)
from {{ cookiecutter.package_name }}.api.openapi import (
    documented_rules,
)
from {{ cookiecutter.package_name }}.cli import (
    train_command,
)
from {{ cookiecutter.package_name }}.models.classifier import (
    UnscorableRows,
)
{%- if cookiecutter.example_task == "text" %}

NURSE = "Registered nurse with six years in intensive care; administered medication and managed wound care."
ROLES = ["accountant", "data_scientist", "nurse", "sales", "software_engineer", "teacher"]
EXAMPLE, EXAMPLE_CLASS = NURSE, "nurse"
ONE, INVALID = {"text": NURSE}, {"text": ""}
{%- else %}

NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SETOSA = [5.1, 3.5, 1.4, 0.2]
EXAMPLE, EXAMPLE_CLASS = SETOSA, "setosa"
ONE, INVALID = {"features": SETOSA}, {"features": [1]}
{%- endif %}
HOSTILE = '<script>alert("x")</script>'


def csrf_token(client) -> str:
    """The token the page gives this client (its first GET / starts its session), read as a browser reads it."""
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


{%- if cookiecutter.example_task == "text" %}


def example_form(example: str) -> dict[str, str]:
    """The form's one field (its token aside) as a browser sends it: the textarea's text."""
    return {"text": example}
{%- else %}


def example_form(example: list[float]) -> dict[str, str]:
    """The form's fields (its token aside) as a browser sends them: one text per feature."""
    return dict(zip(NAMES, map(str, example), strict=True))
{%- endif %}


def post_example(client, example, token=None, **changes):
    """POST / with the page's token and the example's fields; `changes` replace or (None) drop fields."""
    form = {"csrf_token": token or csrf_token(client), **example_form(example)}
    form.update(changes)
    return client.post("/", data={name: text for name, text in form.items() if text is not None})


def flashed(response) -> list[str]:
    return [
        unescape(message) for message in re.findall(r'<p class="flash error" role="alert">(.*?)</p>', text(response))
    ]


def prediction(response) -> str | None:
    found = re.search(r'<output id="prediction">(.*?)</output>', text(response))
    return unescape(found.group(1)) if found else None


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_page_shows_the_model_card(client, config):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = text(response)
    metadata = client.get("/model").get_json()
    assert f"<h1>{config.model.name} <span" in page
    assert f"version {config.model.version}" in page
{%- if cookiecutter.example_task == "text" %}
    assert f"on {metadata['training_rows']} texts;" in page
    for label in ROLES:
        assert f"<li>{label}</li>" in page
    assert '<label for="text">Your text, at most 5000 characters</label>' in page
    assert re.search(r'<textarea id="text" name="text" [^>]*required>\n</textarea>', page)
    assert "feature_ranges" not in metadata
    assert 'class="range"' not in page
{%- else %}
    for label in ["setosa", "versicolor", "virginica"]:
        assert f"<li>{label}</li>" in page
    for name in NAMES:
        seen = metadata["feature_ranges"][name]
        assert f'<label for="feature-{NAMES.index(name) + 1}">{name}</label>' in page
        assert f'<td class="range">{seen["min"]} to {seen["max"]}</td>' in page
{%- endif %}
    assert f"<dd>{metadata['metrics']['accuracy']}</dd>" in page
    assert prediction(response) is None


def test_a_valid_example_gets_the_apis_prediction_and_probabilities(client):
    response = post_example(client, EXAMPLE)
    assert response.status_code == 200
    assert flashed(response) == []
    assert prediction(response) == EXAMPLE_CLASS
    answer = client.post("/predict", json=ONE).get_json()
    shown = re.findall(r'<th scope="row">([^<]+)</th>\s*<td class="number">([0-9.]+)</td>', text(response))
    assert shown == [
        (label, f"{p:.3f}") for label, p in zip(answer["classes"], answer["probabilities"][0], strict=True)
    ]
{%- if cookiecutter.example_task == "text" %}
    assert f"required>\n{NURSE}</textarea>" in text(response)  # the form keeps what was sent
{%- else %}
    assert 'name="petal_width" value="0.2"' in text(response)  # the form keeps what was sent
{%- endif %}

{%- if cookiecutter.example_task == "text" %}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "your text must not be empty or only whitespace"),
        (" \r\n\t ", "your text must not be empty or only whitespace"),
        (None, "your text must not be empty or only whitespace"),
        ("x" * 5001, "your text has 5001 characters, more than the limit of 5000"),
    ],
    ids=["empty", "blank", "missing", "too-long"],
)
def test_bad_texts_are_flashed_above_the_form_with_422(client, typed, message):
    response = post_example(client, NURSE, text=typed)
    assert response.status_code == 422
    assert flashed(response) == [message]
    assert prediction(response) is None
    assert f"required>\n{typed or ''}</textarea>" in text(response)  # the form keeps what was sent


def test_line_breaks_count_as_typed_not_as_the_browser_sends_them(client):
    """A browser sends each line break of a textarea as two characters, CR LF: the limit counts one, as typed."""
    sent = NURSE + "\r\n" * (5000 - len(NURSE))
    assert len(sent.replace("\r\n", "\n")) == 5000 < len(sent)
    assert post_example(client, sent).status_code == 200


def test_a_typed_text_is_shown_back_escaped(client):
    response = post_example(client, f"</textarea>{HOSTILE}")
    page = text(response)
    assert response.status_code == 200
    assert "<script" not in page
    shown = "&lt;/textarea&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    assert f"required>\n{shown}</textarea>" in page
    assert f'<td class="snippet">{shown}</td>' in page
{%- else %}


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"sepal_width": "abc"}, ["sepal_width: must be a number, not a string"]),
        (
            {"sepal_length": "NaN", "petal_length": "1e999"},
            [
                "sepal_length: must be a finite number of magnitude at most 1e+300 (not NaN or Infinity)",
                "petal_length: must be a finite number of magnitude at most 1e+300 (not NaN or Infinity)",
            ],
        ),
        ({"petal_width": "  "}, ["no value for petal_width"]),
        ({"sepal_length": None, "petal_width": None}, ["no value for sepal_length, petal_width"]),
    ],
    ids=["not-a-number", "not-finite", "blank", "missing"],
)
def test_bad_values_are_flashed_above_the_form_with_422(client, changes, messages):
    response = post_example(client, SETOSA, **changes)
    assert response.status_code == 422
    assert flashed(response) == messages
    assert prediction(response) is None
    assert '<form method="post"' in text(response)
    for name, value in zip(NAMES, SETOSA, strict=True):
        if name not in changes:
            assert f'name="{name}" value="{value}"' in text(response)


def test_a_typed_value_is_shown_back_escaped(client):
    response = post_example(client, SETOSA, sepal_width='"><b>5')
    assert response.status_code == 422
    assert 'value="&#34;&gt;&lt;b&gt;5"' in text(response)
{%- endif %}


@pytest.mark.parametrize("token", [None, "", "x" * 43, "é"], ids=["absent", "empty", "wrong", "non-ascii"])
def test_a_post_without_the_sessions_csrf_token_is_refused_with_400(client, token):
    csrf_token(client)  # the session, and so its token, exist
    form = example_form(EXAMPLE)
    response = client.post("/", data=form if token is None else {**form, "csrf_token": token})
    assert response.status_code == 400
    assert flashed(response) == [
        "the form had expired or did not come from this page; it is shown again, send it once more"
    ]
    assert prediction(response) is None


def test_a_token_is_good_only_in_its_own_session(app):
    visitor, other = app.test_client(), app.test_client()
    assert post_example(other, EXAMPLE, token=csrf_token(visitor)).status_code == 400
    token = csrf_token(visitor)
    visitor.delete_cookie("session")
    assert post_example(visitor, EXAMPLE, token=token).status_code == 400


def test_after_a_refused_post_the_page_shown_carries_a_token_that_works(client):
    refused = client.post("/", data=example_form(EXAMPLE))  # as from an expired session
    assert refused.status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(refused)).group(1)
    assert post_example(client, EXAMPLE, token=token).status_code == 200


def test_the_session_keeps_the_last_five_predictions_newest_first(client):
    token = csrf_token(client)
{%- if cookiecutter.example_task == "text" %}
    for day in range(1, 8):
        assert post_example(client, f"Day {day}:\r\n{NURSE}", token=token).status_code == 200
    post_example(client, " ", token=token)  # refused: not remembered
    page = text(client.get("/"))
    history = re.search(r'<table id="history">.*?</table>', page, re.DOTALL).group(0)
    snippets = [f"Day {day}: {NURSE}"[:79] + "…" for day in range(7, 2, -1)]
    assert [unescape(shown) for shown in re.findall(r'<td class="snippet">(.*?)</td>', history)] == snippets
    with client.session_transaction() as session:
        assert [past["text"] for past in session["history"]] == snippets
        assert {past["label"] for past in session["history"]} == {"nurse"}


def test_five_of_the_longest_texts_still_fit_the_session_cookie(client):
    """Browsers drop a cookie over about 4 KB: the history keeps only each text's start, and the session stays
    under the limit even for five texts of the widest characters (4 bytes each in UTF-8), in no repeating order."""
    token = csrf_token(client)
    for seed in range(5):
        pick = random.Random(seed).choices  # noqa: S311 - a repeatable test input, not a secret
        widest = "".join(pick([chr(code) for code in range(0x1F300, 0x1F600)], k=5000))
        response = post_example(client, widest, token=token)
        assert response.status_code == 200
    assert len(response.headers["Set-Cookie"]) <= response.max_cookie_size
    assert len(re.findall(r'<td class="snippet">', text(response))) == 5
{%- else %}
    for tenth in range(50, 57):
        assert post_example(client, [tenth / 10, *SETOSA[1:]], token=token).status_code == 200
    post_example(client, SETOSA, token=token, sepal_width="abc")  # refused: not remembered
    page = text(client.get("/"))
    history = re.search(r'<table id="history">.*?</table>', page, re.DOTALL).group(0)
    rows = re.findall(r"<tr>\s*<td class=\"number\">([0-9.]+)</td>", history)
    assert rows == ["5.6", "5.5", "5.4", "5.3", "5.2"]
    with client.session_transaction() as session:
        assert [past["features"][0] for past in session["history"]] == [5.6, 5.5, 5.4, 5.3, 5.2]
        assert {past["label"] for past in session["history"]} == {"setosa"}
{%- endif %}


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
        ("post", "/predict", ONE, 200),
        ("post", "/predict", INVALID, 422),
        ("get", "/nowhere", None, 404),
    ],
)
def test_every_answer_carries_the_security_headers(client, method, path, body, status):
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


def test_the_page_needs_nothing_its_content_security_policy_forbids(client):
    page = text(post_example(client, EXAMPLE))
    assert re.search(r"<script|<style|\sstyle=|\son[a-z]+=|https?://", page) is None
    assert text(client.get("/static/web.css")).startswith("/*")


@pytest.fixture(scope="module")
def hostile_client(make_config, tmp_path_factory):
{%- if cookiecutter.example_task == "text" %}
    """A model trained, through the real CLI, on data whose class names are HTML, and named in HTML."""
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "data.csv"
    with data.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["text", "label"])
        writer.writerows([[f"alert script {row}", HOSTILE] for row in range(10)])
        writer.writerows([[f"plain words {row}", "plain"] for row in range(10)])
    config = make_config(
        data={"csv_path": str(data)},
        model={"name": HOSTILE, "artifact_path": str(folder / "model.skops")},
    )
{%- else %}
    """A model trained, through the real CLI, on data whose class and feature names are HTML, and named in HTML."""
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "data.csv"
    with data.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["length", "<i>width</i>", "species"])
        writer.writerows(
            [[1 + row / 10, 1, HOSTILE] for row in range(10)] + [[5 + row / 10, 5, "plain"] for row in range(10)]
        )
    config = make_config(
        data={"source": "csv", "csv_path": str(data), "target_column": "species"},
        model={"name": HOSTILE, "artifact_path": str(folder / "model.skops")},
    )
{%- endif %}
    train_command(config, argparse.Namespace(if_missing=False))
    return create_app(config).test_client()


def test_names_from_the_model_are_escaped_not_run(hostile_client):
    token = csrf_token(hostile_client)
{%- if cookiecutter.example_task == "text" %}
    response = hostile_client.post("/", data={"csrf_token": token, "text": "alert script"})
{%- else %}
    response = hostile_client.post("/", data={"csrf_token": token, "length": "1.2", "<i>width</i>": "1"})
{%- endif %}
    page = text(response)
    assert prediction(response) == HOSTILE
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
{%- if cookiecutter.example_task != "text" %}
    assert "<i>" not in page
    assert 'name="&lt;i&gt;width&lt;/i&gt;"' in page
{%- endif %}


def test_without_a_model_the_page_says_why_with_503(make_config, tmp_path):
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
    assert post_example(client, EXAMPLE, token=token).status_code == 503


def test_values_the_model_cannot_score_are_flashed_with_422(client, monkeypatch):
    def overflow(*_arguments):
        raise UnscorableRows([0])

    monkeypatch.setattr(web, "predict", overflow)
    response = post_example(client, EXAMPLE)
    assert response.status_code == 422
{%- if cookiecutter.example_task == "text" %}
    assert flashed(response) == ["the model could not score this text (its probabilities overflowed)"]
{%- else %}
    assert flashed(response) == ["these values are too large for the model to score"]
{%- endif %}


def test_the_page_is_left_out_of_the_api_document(app, client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
    assert {rule.rule for rule in app.url_map.iter_rules()} - {rule.rule for rule in documented_rules(app)} == {
        "/",
        "/static/<path:filename>",
    }
