"""GET / : the model card, a page for people: what the model is, what it learnt from, and a form to try it.

The form's example goes through the same `serving.predict` as POST /predict, so the page accepts
and answers exactly as the API does; the task's input kind draws the form's fields and its output
kind the result. What is wrong is flashed above the form, shown again with the status the API would
give (422; 400 for a refused CSRF token; 503 without a model). The visitor's last predictions and
their CSRF token live in Flask's signed session cookie. HTML, not API: the page stays out of
/openapi.json.
"""

import hmac
import secrets
from typing import Any

from flask import Blueprint, current_app, flash, render_template, request, session

from ..errors import ApiError
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}
from .openapi import undocumented
from .serving import model_slot, predict, ready_model

# The page's title: the project's name, as given when the project was made.
PROJECT_NAME = "{{ cookiecutter.project_name|escaped }}"
HISTORY_LENGTH = 5
CSRF_FIELD = "csrf_token"

web = undocumented(Blueprint("web", __name__, static_folder="static", template_folder="templates"))


@web.get("/")
def model_card() -> tuple[str, int]:
    """The card and the form; without a model, why not (503), after looking for it again if it is time."""
    ready_model()
    return _page()


@web.post("/")
def try_model() -> tuple[str, int]:
    """Score the form's one example and remember it in the visitor's history, newest first."""
    _check_csrf_token()
    model, features, prediction = predict(lambda inputs: inputs.form_items(request.form))
    result = model.outputs.page_result(prediction)
    past = {"example": model.inputs.history_cells(features), "prediction": result["summary"]}
    session["history"] = [past, *_history()][:HISTORY_LENGTH]
    return _page(result=result)


@web.errorhandler(ApiError)
def _show_problems(error: ApiError) -> tuple[str, int]:
    """Each problem validation found (or why there is no model, or a refused token) above the form."""
    model = model_slot().model
    for detail in error.details or [{"problem": error.message}]:
        flash(model.inputs.in_words(detail) if model else detail["problem"], "error")
    return _page(error.status)


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The page: the card and form (with a model), flashed messages, the visitor's history, and `context`."""
    return render_template(
        "model_card.html",
        model=model_slot().model,
        project_name=PROJECT_NAME,
        public_details=current_app.config["SERVICE_CONFIG"].server.public_model_details,
{%- if cookiecutter.enable_metrics %}
        out_of_range=metrics.out_of_range_shares() if current_app.config["ENABLE_METRICS"] else None,
{%- endif %}
        csrf_token=_csrf_token(),
        history=_history(),
        **context,
    ), status


def _history() -> list[dict[str, Any]]:
    """The visitor's history as this page writes it: at most HISTORY_LENGTH entries of its shape.

    The cookie is signed, but whoever had the key could sign anything: what is not that shape is dropped."""
    kept = session.get("history")
    return [entry for entry in kept[:HISTORY_LENGTH] if _is_past_prediction(entry)] if isinstance(kept, list) else []


def _is_past_prediction(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and entry.keys() == {"example", "prediction"}
        and isinstance(entry["prediction"], str)
        and isinstance(entry["example"], list)
        and all(isinstance(cell, str | int | float) for cell in entry["example"])
    )


def _csrf_token() -> str:
    """The visitor's token, made on their first visit; the form carries it back in a hidden field."""
    if not isinstance(session.get(CSRF_FIELD), str):
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    token: str = session[CSRF_FIELD]
    return token


def _check_csrf_token() -> None:
    """Another site can make a visitor's browser post this form, but cannot read their session cookie or
    this page, so cannot send their token. compare_digest takes as long for a near guess as for a far one."""
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            "the form had expired or did not come from this page; it is shown again, send it once more",
            status=400,
            code="csrf_failed",
        )
