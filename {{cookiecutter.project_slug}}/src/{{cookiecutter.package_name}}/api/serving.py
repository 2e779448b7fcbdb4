"""The model the app serves, and the one function every route predicts with.

Like the `db.py` of Flask's tutorial, this is the app's resource: `init_app` loads the model once
into the app, `ready_model()` hands it to a request (or a 503 saying why there is none) and
`predict()` is the whole path from a request's items to an answer, shared by POST /predict, /v2 and
the page, so that all three accept, answer and count alike.
"""

import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from flask import Flask, current_app

from ..errors import ApiError
from ..models.model import LoadedModel, ModelError, load_model
from ..schemas import Inputs
from ..utils.helpers import Config
{%- if cookiecutter.enable_metrics %}
from . import metrics
{%- endif %}

log = logging.getLogger(__name__)


class ModelSlot:
    """The app's one model, loaded at start-up and then only read.

    Without a model the service either refuses to start (server.require_model) or starts
    unready and looks for the artifact again, at most every server.model_retry_seconds.
    """

    def __init__(self, config: Config):
        self._model_config = config.model
        self._input_settings = config.inputs
        self._retry_seconds = config.server.model_retry_seconds
        self._tried_at = float("-inf")
        self.model: LoadedModel | None = None
        self.problem = ""
        self._try_load()
        if self.model is None and config.server.require_model:
            raise ModelError(self.problem)

    def _try_load(self) -> None:
        self._tried_at = time.monotonic()
        try:
            self._serve(self._load())
        except ModelError as error:
            self.problem = str(error)
            log.error("no model loaded", extra={"reason": self.problem})

    def _load(self) -> LoadedModel:
        model = self._model_config
        return load_model(model.artifact_path, model.trusted_types, model.runtime, self._input_settings)

    def _serve(self, model: LoadedModel) -> None:
        """Make `model` the one every request gets, and say so in the log{% if cookiecutter.enable_metrics %} and the model-info metric{% endif %}."""
{%- if cookiecutter.enable_metrics %}
        previous, self.model = self.model, model
        if previous is not None:
            metrics.MODEL_INFO.labels(*_model_labels(previous)).set(0)
        metrics.MODEL_INFO.labels(*_model_labels(model)).set(1)
{%- else %}
        self.model = model
{%- endif %}
        log.info("model loaded", extra={"model": model.name, "version": model.version, "runtime": model.runtime})

    def reload(self) -> None:
        """Load the artifact again (after `train` wrote a new one): a verified model replaces the one served;
        one that fails verification is refused, and the model served stays, as the log says."""
        try:
            model = self._load()
        except ModelError as error:
            serving = self.model.version if self.model else None
            log.error("new model refused, the old one still serves", extra={"reason": str(error), "version": serving})
            return
        self._serve(model)

    def warm_up(self) -> None:
        """Ready the runtime in this process: the server calls it in each worker, after the fork."""
        if self.model is not None:
            self.model.warm_up()

    def ready_model(self) -> LoadedModel:
        """The model, or a 503 ApiError saying why there is none."""
        if self.model is None and time.monotonic() - self._tried_at >= self._retry_seconds:
            self._try_load()
        if self.model is None:
            raise ApiError(self.problem, status=503, code="model_not_ready")
        return self.model


{% if cookiecutter.enable_metrics -%}
def _model_labels(model: LoadedModel) -> tuple[str, str, str]:
    return model.name, model.version, model.metadata["created_at"]


{% endif -%}
def init_app(app: Flask, config: Config) -> None:
    """Load the model into `app` (refusing to start without one when server.require_model says so)."""
    app.extensions["model_slot"] = ModelSlot(config)


def model_slot() -> ModelSlot:
    slot: ModelSlot = current_app.extensions["model_slot"]
    return slot


def ready_model() -> LoadedModel:
    """The model every route that predicts uses (loaded at start-up), or a 503 ApiError saying why there is none."""
    return model_slot().ready_model()


class Scored(NamedTuple):
    model: LoadedModel
    features: np.ndarray  # as validated
    prediction: Any  # in the terms of the model's output kind, which turns it into an answer


def predict(items_of: Callable[[Inputs], list[Any]]) -> Scored:
    """Ready model -> the request's items (`items_of`, as the route reads them) -> validated -> scored -> counted."""
    model = ready_model()
    features = model.inputs.validate(items_of(model.inputs), current_app.config["MAX_BATCH_ROWS"])
    prediction = model.predict(features)
{%- if cookiecutter.enable_metrics %}
    metrics.count_predictions(model.version, model.outputs.tally(prediction))
    metrics.count_out_of_range(model.inputs.out_of_range(features))
{%- endif %}
    return Scored(model, features, prediction)
