"""GET / : the model card, a page for people: what the model is, what it learnt from, and a form to try it.

The form's example goes through the API's own `features_from_payload` and `predict`, so the page
accepts and answers exactly as POST /predict does. What is wrong is flashed above the form, shown
again with the status the API would give (422; 400 for a refused CSRF token; 503 without a model).
The visitor's last predictions and their CSRF token live in Flask's signed session cookie.
HTML, not API: the page stays out of /openapi.json.
"""

import hmac
import secrets
from typing import Any

from flask import Blueprint, current_app, flash, render_template, request, session

from ..models.classifier import LoadedModel, UnscorableRows, predict
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
from .openapi import undocumented
from .validation import ApiError, features_from_payload

HISTORY_LENGTH = 5
CSRF_FIELD = "csrf_token"

web = undocumented(Blueprint("web", __name__, static_folder="static", template_folder="templates"))


@web.get("/")
def model_card():
    """The card and the form; without a model, why not (503), after looking for it again if it is time."""
    _ready_model()
    return _page()


@web.post("/")
def try_model():
    """Score the form's one example and remember it in the visitor's history, newest first."""
    _check_csrf_token()
    model = _ready_model()
    features = features_from_payload({"features": _form_row(model.feature_names)}, model.feature_names, max_rows=1)
    (label,), (probabilities,) = predict(model, features)
{%- if cookiecutter.enable_metrics %}
    metrics.count_predictions(model.metadata["version"], [label])
{%- endif %}
    past = {"features": features[0].tolist(), "label": label, "probability": max(probabilities)}
    session["history"] = [past, *session.get("history", [])][:HISTORY_LENGTH]
    return _page(result={"label": label, "probabilities": list(zip(model.class_labels, probabilities, strict=True))})


@web.errorhandler(ApiError)
def _show_problems(error: ApiError):
    """Each problem validation found (or why there is no model, or a refused token) above the form."""
    for detail in error.details or [{"problem": error.message}]:
        flash(_in_words(detail), "error")
    return _page(error.status)


@web.errorhandler(UnscorableRows)
def _show_unscorable(_error: UnscorableRows):
    flash("these values are too large for the model to score", "error")
    return _page(422)


def _ready_model() -> LoadedModel:
    return current_app.extensions["model_slot"].ready_model()


def _page(status: int = 200, **context: Any):
    """The page: the card and form (with a model), flashed messages, the visitor's history, and `context`."""
    return render_template(
        "model_card.html",
        model=current_app.extensions["model_slot"].model,
        csrf_token=_csrf_token(),
        history=session.get("history", []),
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
