"""GET / : the model card, a page for people: what the model is, what it learnt from, and a form to try it.

The form's {{ "text" if cookiecutter.example_task == "text" else "example" }} goes through the API's own `{{ "texts" if cookiecutter.example_task == "text" else "features" }}_from_payload` and `predict`, so the page
accepts and answers exactly as POST /predict does. What is wrong is flashed above the form, shown
again with the status the API would give (422; 400 for a refused CSRF token; 503 without a model).
The visitor's last predictions and their CSRF token live in Flask's signed session cookie.
HTML, not API: the page stays out of /openapi.json.
"""

import hmac
import secrets
from typing import Any

import numpy as np
from flask import Blueprint, current_app, flash, render_template, request, session

from ..models.classifier import LoadedModel, UnscorableRows, predict
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
from .app import ready_model
from .openapi import undocumented
{%- if cookiecutter.example_task == "text" %}
from .validation import ApiError, texts_from_payload
{%- else %}
from .validation import ApiError, features_from_payload
{%- endif %}

HISTORY_LENGTH = 5
CSRF_FIELD = "csrf_token"
# Which form model_card.html shows: one text, or (tabular) one number per feature.
EXAMPLE_TASK = "{{ cookiecutter.example_task }}"
{%- if cookiecutter.example_task == "text" %}
# The history keeps only a text's start: all of the session must fit a cookie (about 4 KB).
SNIPPET_CHARS = 80
{%- endif %}

web = undocumented(Blueprint("web", __name__, static_folder="static", template_folder="templates"))


@web.get("/")
def model_card():
    """The card and the form; without a model, why not (503), after looking for it again if it is time."""
    ready_model()
    return _page()


@web.post("/")
def try_model():
    """Score the form's one example and remember it in the visitor's history, newest first."""
    _check_csrf_token()
    model = ready_model()
    example, remembered = _form_example(model)
    (label,), probabilities = predict(model, example)
    scores = probabilities[0].tolist()
{%- if cookiecutter.enable_metrics %}
    metrics.count_predictions(model.metadata["version"], [label])
{%- endif %}
    past = {**remembered, "label": label, "probability": max(scores)}
    session["history"] = [past, *session.get("history", [])][:HISTORY_LENGTH]
    return _page(result={"label": label, "probabilities": list(zip(model.class_labels, scores, strict=True))})


@web.errorhandler(ApiError)
def _show_problems(error: ApiError):
    """Each problem validation found (or why there is no model, or a refused token) above the form."""
    for detail in error.details or [{"problem": error.message}]:
        flash(_in_words(detail), "error")
    return _page(error.status)


@web.errorhandler(UnscorableRows)
def _show_unscorable(_error: UnscorableRows):
{%- if cookiecutter.example_task == "text" %}
    flash("the model could not score this text (its probabilities overflowed)", "error")
{%- else %}
    flash("these values are too large for the model to score", "error")
{%- endif %}
    return _page(422)


def _page(status: int = 200, **context: Any):
    """The page: the card and form (with a model), flashed messages, the visitor's history, and `context`."""
    return render_template(
        "model_card.html",
        model=current_app.extensions["model_slot"].model,
        csrf_token=_csrf_token(),
        history=session.get("history", []),
        example_task=EXAMPLE_TASK,
{%- if cookiecutter.example_task == "text" %}
        text_limit=current_app.config["MAX_TEXT_CHARS"],
{%- endif %}
        **context,
    ), status


def _csrf_token() -> str:
    """The visitor's token, made on their first visit; the form carries it back in a hidden field."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def _check_csrf_token() -> None:
    """Another site can make a visitor's browser post this form, but cannot read their session cookie or
    this page, so cannot send their token. compare_digest takes as long for a near guess as for a far one."""
    expected = session.get(CSRF_FIELD, "")
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            "the form had expired or did not come from this page; it is shown again, send it once more",
            status=400,
            code="csrf_failed",
        )

{%- if cookiecutter.example_task == "text" %}


def _form_example(_model: LoadedModel) -> tuple[np.ndarray, dict[str, Any]]:
    """The form's text, checked as POST /predict checks {"text": ...}, and the start of it the history keeps.
    A browser sends a textarea's line breaks as CR LF: made LF again, each counts as one character, as typed."""
    text = request.form.get("text", "").replace("\r\n", "\n")
    texts = texts_from_payload({"text": text}, max_rows=1, max_chars=current_app.config["MAX_TEXT_CHARS"])
    return texts, {"text": _snippet(text)}


def _snippet(text: str) -> str:
    """The text, each run of whitespace made one space, cut to SNIPPET_CHARS characters (the last one … if cut)."""
    words = " ".join(text.split())
    return words if len(words) <= SNIPPET_CHARS else words[: SNIPPET_CHARS - 1] + "…"


def _in_words(detail: dict) -> str:
    """One problem as a person filling the form would put it: about their text, without the API's row number."""
    return f"your text {detail['problem']}" if "row" in detail else detail["problem"]
{%- else %}


def _form_example(model: LoadedModel) -> tuple[np.ndarray, dict[str, Any]]:
    """The form's row, checked as POST /predict checks {"features": row}, and the values the history keeps."""
    features = features_from_payload({"features": _form_row(model.feature_names)}, model.feature_names, max_rows=1)
    return features, {"features": features[0].tolist()}


def _form_row(feature_names: list[str]) -> dict[str, Any]:
    """The form as the API's {name: value} row. Text that is a number becomes one, other text stays text
    for validation to name; a blank field is left out, so validation names it missing."""
    row: dict[str, Any] = {}
    for name in feature_names:
        text = request.form.get(name, "").strip()
        if text:
            try:
                row[name] = float(text)
            except ValueError:
                row[name] = text
    return row


def _in_words(detail: dict) -> str:
    """One problem as a person filling the form would put it: by feature, without the API's row numbers."""
    if detail.get("missing"):
        return f"no value for {', '.join(detail['missing'])}"
    if "feature" in detail:
        return f"{detail['feature']}: {detail['problem']}"
    return detail["problem"]
{%- endif %}
