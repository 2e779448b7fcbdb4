"""The model card page (GET /, POST /), driven as a browser drives it: form posts and the session cookie.

The page is drawn by the task's kinds, so these tests ask the loaded model what it takes and answers;
what the page shows of one kind (a row's fields, a text's textarea, a classifier's classes, a regressor's
target) is tested in that kind's module, test_<kind>.py. The page's helpers are conftest's `page`.
"""

import argparse
import csv
import dataclasses
import re
from datetime import timedelta
from html import unescape as html_unescape
from pathlib import Path

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

CSRF_REFUSED = "the form had expired or did not come from this page; it is shown again, send it once more"


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


def project_name() -> str:
    """The project's name, as it was given: the title of its README."""
    readme = Path(__file__).parents[1] / "README.md"
    title = next(line for line in readme.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
    return title.removeprefix("# ")


def test_the_page_shows_the_model_card(client, model, page):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = page.text(response)
    metadata = client.get("/model").get_json()
    assert f"<h1>{metadata['name']} <span" in html
    assert f"version {metadata['version']}" in html
    assert f"on {metadata['training_rows']} {model.inputs.noun}s;" in html
    assert f"answered by {model.runtime}." in html
    assert metadata["metrics"]
    for name, score in metadata["metrics"].items():
        assert f"<div><dt>{name}</dt><dd>{score}</dd></div>" in html
    assert "<h2>Try it</h2>" in html
    assert html_unescape(re.search(r"<title>(.*?)</title>", html).group(1)) == project_name()
    assert page.prediction(response) is None
    assert '<table id="history">' not in html


def test_the_page_shows_the_models_lineage_unless_build_details_are_private(client, make_config, config, page):
    metadata = client.get("/model").get_json()
    html = page.text(client.get("/"))
    assert f"From code at commit {metadata['git_commit'] or 'unknown'}" in html
    assert f"settings sha256\n  {metadata['config_sha256']}." in html
    private = make_config(model={"artifact_path": config.model.artifact_path}, server={"public_model_details": False})
    assert 'id="lineage"' not in page.text(create_app(private).test_client().get("/"))


def test_the_example_gets_a_prediction_and_the_form_keeps_what_was_sent(client, page, page_form):
    response = page.post(client, page_form)
    assert response.status_code == 200
    assert page.flashed(response) == []
    assert page.prediction(response)
    assert page.form_values(response) == page_form


def test_what_the_api_refuses_the_page_flashes_in_the_visitors_words_with_422(client, model, page, page_form):
    """The page validates as the API does: one message per problem the API names, in the visitor's terms."""
    blank = dict.fromkeys(page_form, "")
    api = client.post("/predict", json={"instances": model.inputs.form_items(blank)})
    assert api.status_code == 422
    response = page.post(client, blank)
    assert response.status_code == 422
    assert page.flashed(response) == [model.inputs.in_words(detail) for detail in api.get_json()["error"]["details"]]
    assert page.prediction(response) is None
    assert '<form method="post"' in page.text(response)


@pytest.mark.parametrize("token", [None, "", "x" * 43, "é"], ids=["absent", "empty", "wrong", "non-ascii"])
def test_a_post_without_the_sessions_csrf_token_is_refused_with_400(client, page, page_form, token):
    page.csrf_token(client)  # the session, and so its token, exist
    response = client.post("/", data=page_form if token is None else {**page_form, "csrf_token": token})
    assert response.status_code == 400
    assert page.flashed(response) == [CSRF_REFUSED]
    assert page.prediction(response) is None


def test_a_token_is_good_only_in_its_own_session(app, page, page_form):
    visitor, other = app.test_client(), app.test_client()
    assert page.post(other, page_form, token=page.csrf_token(visitor)).status_code == 400
    token = page.csrf_token(visitor)
    visitor.delete_cookie("session")
    assert page.post(visitor, page_form, token=token).status_code == 400
    assert page.post(visitor, page_form).status_code == 200  # a new session, its own token


def test_after_a_refused_post_the_page_shown_carries_a_token_that_works(client, page, page_form):
    refused = client.post("/", data=page_form)  # as from an expired session
    assert refused.status_code == 400
    token = page.token_in(refused)
    assert page.post(client, page_form, token=token).status_code == 200


def test_the_session_keeps_the_last_five_predictions_newest_first(client, model, example, page, page_form):
    token = page.csrf_token(client)
    sent, shown = [], []
    for step in range(1, 8):
        item = variant(example, step)
        response = page.post(client, page.fields(model.inputs, item), token=token)
        assert response.status_code == 200
        sent.append(item)
        shown.append(page.prediction(response))
    page.post(client, dict.fromkeys(page_form, ""), token=token)  # refused: not remembered
    rows = page.history(client.get("/"))
    assert [cells[:-1] for cells in rows] == [history_cells(item) for item in sent[:1:-1]]
    for cells, answer in zip(rows, shown[:1:-1], strict=True):
        assert cells[-1].startswith(answer)  # "label (probability)", or the value as shown
    with client.session_transaction() as session:  # what the table shows is what the session keeps
        assert [[*map(str, past["example"]), past["prediction"]] for past in session["history"]] == rows


def test_the_session_cookie_is_http_only_and_same_site(client):
    cookie = client.get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_in_production_the_session_cookie_is_secure_and_lasts_the_configured_hours(production_app, config):
    host = production_app.config["TRUSTED_HOSTS"][0]
    assert "Secure" in production_app.test_client().get("/", headers={"Host": host}).headers["Set-Cookie"]
    assert production_app.permanent_session_lifetime == timedelta(hours=config.server.session_lifetime_hours)


def test_a_forged_session_shows_at_most_five_predictions_and_only_of_the_pages_own_shape(client, page, page_form):
    """Whoever had the key could sign any session: its history and token are checked when read, never trusted."""
    good = {"example": ["1.5", 2], "prediction": "a"}
    odd = [{"example": "not cells"}, 5, {"example": [{}], "prediction": "b"}, {**good, "extra": 1}]
    with client.session_transaction() as session:
        session["history"] = [good] * 50
        session["csrf_token"] = 12345  # not a token this page makes
    assert page.history(client.get("/")) == [["1.5", "2", "a"]] * 5
    assert page.post(client, page_form, token=str(12345)).status_code == 400
    with client.session_transaction() as session:
        session["history"] = [good, *odd, *[good] * 50]  # the first five entries are read: one of the page's shape
    assert page.history(client.get("/")) == [["1.5", "2", "a"]]
    with client.session_transaction() as session:
        session["history"] = "not a list"
    shown = client.get("/")
    assert shown.status_code == 200
    assert 'id="history"' not in shown.get_data(as_text=True)  # no table: nothing to show


def test_a_form_of_too_many_parts_gets_413_saying_so(client, assert_error):
    form = {f"field{index}": "x" for index in range(1200)}  # small, but more parts than Werkzeug parses
    error = assert_error(client.post("/", data=form, content_type="multipart/form-data"), 413, "payload_too_large")
    assert error["message"] == "the form has more parts than the limit of 1000"


def test_a_cookie_larger_than_a_browser_keeps_is_not_read(client):
    client.get("/")  # a session, with its token
    client.set_cookie("session", "x" * 5000)
    response = client.get("/")
    assert response.status_code == 200
    assert "session=" in response.headers["Set-Cookie"]  # a new session, in place of the one not read


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


def test_the_page_needs_nothing_its_content_security_policy_forbids(client, page, page_form):
    html = page.text(page.post(client, page_form))
    assert re.search(r"<script|<style|\sstyle=|\son[a-z]+=|https?://", html) is None
    assert page.text(client.get("/static/web.css")).startswith("/*")


@pytest.fixture
def hostile_client(make_config, model, example, page, tmp_path):
    """A model trained, through the real CLI, on data whose names are HTML: the model's, the target's, a
    feature's (rows of numbers) and a class's (a classifier). It answers page.HOSTILE for a low row, an alert text."""
    classifier = hasattr(model.outputs, "class_labels")
    header = ["length", "<i>width</i>", page.HOSTILE] if isinstance(example, list) else ["text", page.HOSTILE]
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
            target = (page.HOSTILE if low else "plain") if classifier else (10 if low else 100) + row % 10
            writer.writerow([*features, target])
    config = make_config(
        data={"csv_path": str(data), "feature_columns": None, "target_column": page.HOSTILE},
        model={"name": page.HOSTILE, "artifact_path": str(tmp_path / "model.skops")},
    )
    train_command(config, argparse.Namespace(if_missing=False))
    return create_app(config).test_client()


def test_names_from_the_model_are_escaped_not_run(hostile_client, example, page):
    hostile = hostile_client.application.extensions["model_slot"].model
    item = [1.2, 1] if isinstance(example, list) else "alert script"
    response = page.post(hostile_client, page.fields(hostile.inputs, item))
    html = page.text(response)
    assert response.status_code == 200
    assert "<script" not in html
    assert f"<h1>{page.HOSTILE_SHOWN} <span" in html
    if hasattr(hostile.outputs, "class_labels"):
        assert page.prediction(response) == page.HOSTILE
        assert f"<li>{page.HOSTILE_SHOWN}</li>" in html
    else:
        assert f"{page.HOSTILE_SHOWN}, a number" in html
    if isinstance(example, list):
        assert "<i>" not in html
        assert 'name="&lt;i&gt;width&lt;/i&gt;"' in html


def test_without_a_model_the_page_says_why_with_503(make_config, tmp_path, page, page_form):
    app = create_app(
        make_config(model={"artifact_path": str(tmp_path / "absent.skops")}, server={"require_model": False})
    )
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "absent.skops" in page.flashed(response)[0]
    assert "<form" not in page.text(response)
    with client.session_transaction() as session:  # the page has no form to carry it, but the session has one
        token = session["csrf_token"]
    refused = page.post(client, page_form, token=token)
    assert refused.status_code == 503
    assert "absent.skops" in page.flashed(refused)[0]


def test_values_the_model_cannot_score_are_flashed_with_422(app, client, model, page, page_form, monkeypatch):
    """A runtime that answers NaN for a row (e.g. overflowing probabilities) gets the API's 422, not a 500."""
    not_a_number = dataclasses.replace(model, scores=lambda features: model.scores(features) * np.nan)
    monkeypatch.setattr(app.extensions["model_slot"], "model", not_a_number)
    response = page.post(client, page_form)
    assert response.status_code == 422
    assert len(page.flashed(response)) == 1
    assert "too large for the model to score" in page.flashed(response)[0]
    assert page.prediction(response) is None


def test_the_page_is_left_out_of_the_api_document(app, client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
    assert {rule.rule for rule in app.url_map.iter_rules()} - {rule.rule for rule in documented_rules(app)} == {
        "/",
        "/static/<path:filename>",
    }
