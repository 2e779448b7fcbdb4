"""Build, train, evaluate, save, load and run the model; nothing here knows about HTTP.

Two artifacts are written, and a JSON metadata file beside them records what was trained,
on what, and the sha256 of each; loading checks every sha256 before it reads anything.
- `model.skops`: the fitted scikit-learn Pipeline, with skops rather than pickle (loading a
  pickle runs whatever code it names; skops refuses every type not on a trusted list).
{%- if cookiecutter.example_task == "text" %}
- `model.onnx`: an ONNX copy, which onnxruntime serves when the metadata vouches for one. The
  text Pipeline is saved without: skl2onnx's TfidfVectorizer needs the en_US.UTF-8 locale, and
  tokenizes and scores (in float32) differently enough that its probabilities differed from
  scikit-learn's by up to 0.014 on the sample data, so scikit-learn serves it.
scikit-learn and skops are imported only where training or the scikit-learn runtime needs them.
{%- else %}
- `model.onnx`: the same Pipeline exported to ONNX, kept only if it predicts exactly as the
  Pipeline on the held-out data. ONNX holds no code, and onnxruntime answers one row some
  30 times faster than scikit-learn's per-call checks allow, so it serves by default.
scikit-learn, skops and skl2onnx are imported only where training or the scikit-learn
runtime needs them, so a server running ONNX starts without importing them.
{%- endif %}
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
{%- if cookiecutter.example_task != "text" %}
import logging
{%- endif %}
import os
import platform
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from ..data.data_loader import Dataset

{%- if cookiecutter.example_task != "text" %}

# Probabilities of the ONNX copy may differ from scikit-learn's by rounding only.
ONNX_TOLERANCE = 1e-9

log = logging.getLogger(__name__)
{%- endif %}


class ModelError(RuntimeError):
    """The model artifact cannot be trusted or used."""


class UnscorableRows(ValueError):  # noqa: N818 - named for what the caller is told
    """Finite rows whose values are too large for the model: their probabilities overflowed."""

    def __init__(self, rows: list[int]):
        super().__init__(f"row {rows[0]}: values too large for the model to score (its probabilities overflow)")
        self.rows = rows


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A verified model: its metadata, and the function that scores rows with the chosen runtime."""

    metadata: dict[str, Any]
    probabilities: Callable[[np.ndarray], np.ndarray]
    runtime: str

    @property
    def feature_names(self) -> list[str]:
        return self.metadata["feature_names"]

    @property
    def class_labels(self) -> list[str]:
        return self.metadata["class_labels"]

    @functools.cached_property
    def label_array(self) -> np.ndarray:
        return np.array(self.class_labels, dtype=object)

    def warm_up(self) -> None:
        """Make the runtime ready in this process (raises ModelError if it cannot be)."""
        warm_up = getattr(self.probabilities, "warm_up", None)
        if warm_up:
            warm_up()
{%- if cookiecutter.example_task == "text" %}


def build_pipeline(hyperparameters: Mapping[str, Any]) -> Pipeline:
    """TF-IDF word weights, then logistic regression, each step's hyper-parameters from the config."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    steps = {"tfidf": TfidfVectorizer, "classify": LogisticRegression}
    unknown = sorted(set(hyperparameters) - set(steps))
    if unknown:
        raise ModelError(f"unknown step(s) {', '.join(unknown)} in the hyper-parameters (steps: tfidf, classify)")
    return Pipeline([(name, _configured(step, hyperparameters.get(name, {}))) for name, step in steps.items()])
{%- else %}


def build_pipeline(hyperparameters: Mapping[str, Any]) -> Pipeline:
    """Scaling then logistic regression, with hyper-parameters from the config."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", _configured(LogisticRegression, hyperparameters)),
        ]
    )
{%- endif %}


def _configured(estimator: type, hyperparameters: Mapping[str, Any]) -> Any:
    """`estimator` made with the config's hyper-parameters; YAML has no tuples, so lists become tuples."""
    unknown = sorted(set(hyperparameters) - set(estimator().get_params()))
    if unknown:
        raise ModelError(f"unknown hyper-parameter(s) {', '.join(unknown)} for {estimator.__name__}")
    settings = {name: tuple(value) if isinstance(value, list) else value for name, value in hyperparameters.items()}
    return estimator(**settings)


def train(pipeline: Pipeline, data: Dataset) -> Pipeline:
    return pipeline.fit(data.features, data.labels)


def evaluate(estimator: Pipeline, data: Dataset) -> dict[str, float]:
    """Scores on held-out data: accuracy, and macro F1 so that a small class counts as much as a big one."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = estimator.predict(data.features)
    return {
        "accuracy": round(float(accuracy_score(data.labels, predicted)), 4),
        "f1_macro": round(float(f1_score(data.labels, predicted, average="macro")), 4),
    }


def describe(
    estimator: Pipeline, *, name: str, version: str, train_data: Dataset, metrics: Mapping[str, float]
) -> dict[str, Any]:
{%- if cookiecutter.example_task == "text" %}
    """The metadata saved beside the artifacts (save_model adds their sha256)."""
    import sklearn
    import skops
{%- else %}
    """The metadata saved beside the artifacts (save_model adds their sha256). Each feature's range in the
    training data tells a person trying the model which values it has seen."""
    import sklearn
    import skops

    lows, highs = train_data.features.min(axis=0).tolist(), train_data.features.max(axis=0).tolist()
{%- endif %}

    return {
        "name": name,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "feature_names": list(train_data.feature_names),
{%- if cookiecutter.example_task != "text" %}
        "feature_ranges": {
            name: {"min": low, "max": high}
            for name, low, high in zip(train_data.feature_names, lows, highs, strict=True)
        },
{%- endif %}
        "class_labels": [str(label) for label in estimator.classes_],
{%- if cookiecutter.example_task == "text" %}
        "hyperparameters": {name: step.get_params() for name, step in estimator.steps},
{%- else %}
        "hyperparameters": estimator.named_steps["classify"].get_params(),
{%- endif %}
        "metrics": dict(metrics),
        "training_rows": len(train_data.labels),
        "training_data_sha256": train_data.fingerprint(),
    }
{%- if cookiecutter.example_task != "text" %}


def export_onnx(estimator: Pipeline, held_out: Dataset) -> bytes | None:
    """The Pipeline as ONNX (float64, so nothing is lost to rounding), or None if it cannot be
    converted or its copy does not predict as the Pipeline does on the held-out rows."""
    from skl2onnx import to_onnx

    classifier = estimator.steps[-1][1]
    try:
        exported = to_onnx(estimator, held_out.features[:1], options={id(classifier): {"zipmap": False}})
    except Exception as error:  # skl2onnx raises many kinds for what it cannot convert
        log.warning("no ONNX export, scikit-learn will serve", extra={"reason": str(error)})
        return None
    data = exported.SerializeToString()
    exported_scores = OnnxScorer(data, "the ONNX export")(held_out.features)
    difference = np.abs(exported_scores - estimator.predict_proba(held_out.features)).max()
    if difference > ONNX_TOLERANCE:
        log.warning("ONNX export disagrees with scikit-learn, dropped", extra={"difference": float(difference)})
        return None
    return data
{%- endif %}


def metadata_path(artifact_path: Path) -> Path:
    return Path(artifact_path).with_suffix(".json")


def onnx_path(artifact_path: Path) -> Path:
    return Path(artifact_path).with_suffix(".onnx")


def save_model(
    estimator: Pipeline, metadata: Mapping[str, Any], artifact_path: Path, onnx: bytes | None = None
) -> dict[str, Any]:
    """Write the artifacts, then the metadata that vouches for them, each atomically."""
    import skops.io

    artifact_path = Path(artifact_path)
    artifact_path.parent.mkdir(parents=True, exist_ok=True)
    data = skops.io.dumps(estimator)
    saved = {
        **metadata,
        "artifact_sha256": _sha256(data),
        "onnx_sha256": _sha256(onnx) if onnx else None,
    }
    _write_atomically(artifact_path, data)
    if onnx:
        _write_atomically(onnx_path(artifact_path), onnx)
    else:
        onnx_path(artifact_path).unlink(missing_ok=True)
    _write_atomically(metadata_path(artifact_path), json.dumps(saved, indent=2, default=str).encode() + b"\n")
    return saved


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_model(artifact_path: Path, trusted_types: list[str], runtime: str = "onnx") -> LoadedModel:
    """Verify every artifact's sha256, then load the one the runtime needs.

    "onnx" falls back to scikit-learn when the model has no ONNX copy (skl2onnx could not convert it).
    """
    artifact_path = Path(artifact_path)
    data = _read_artifact(artifact_path)
    metadata = _read_metadata(metadata_path(artifact_path))
    _check_sha256(artifact_path, data, metadata["artifact_sha256"])
    if metadata.get("onnx_sha256"):
        onnx = _read_artifact(onnx_path(artifact_path))
        _check_sha256(onnx_path(artifact_path), onnx, metadata["onnx_sha256"])
        if runtime == "onnx":
            return LoadedModel(metadata, OnnxScorer(onnx, onnx_path(artifact_path)), "onnx")
    estimator = _load_skops(artifact_path, data, metadata, trusted_types)
    return LoadedModel(metadata, functools.partial(_sklearn_scores, estimator), "sklearn")


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: file does not exist; train a model first") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{path}: metadata is not valid JSON") from None
    if not isinstance(metadata, dict) or "artifact_sha256" not in metadata:
        raise ModelError(f"{path}: metadata has no artifact_sha256")
    return metadata


def _read_artifact(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: file does not exist; train a model first") from None


def _check_sha256(path: Path, data: bytes, expected: str) -> None:
    if _sha256(data) != expected:
        raise ModelError(f"{path}: sha256 does not match its metadata; the artifact was changed")


def _load_skops(path: Path, data: bytes, metadata: dict[str, Any], trusted_types: list[str]) -> Pipeline:
    import sklearn
    import skops.io

    if metadata.get("sklearn_version") != sklearn.__version__:
        raise ModelError(
            f"{path}: trained with scikit-learn {metadata.get('sklearn_version')}, "
            f"this environment has {sklearn.__version__}; retrain or install the same version"
        )
    try:
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(trusted_types)
        if untrusted:
            raise ModelError(
                f"{path}: refuses to load untrusted type(s) {', '.join(sorted(untrusted))}; "
                "add them to model.trusted_types only if you trust their code"
            )
        return skops.io.loads(data, trusted=list(trusted_types))
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"{path}: not a readable skops artifact ({error})") from None


def _sklearn_scores(estimator: Pipeline, features: np.ndarray) -> np.ndarray:
    import sklearn

    # The API has already validated the rows, and fitting validated the Pipeline's parameters: skip
    # scikit-learn's own checks of both (a fifth of a call's time for one text).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return estimator.predict_proba(features)


class OnnxScorer:
    """Rows -> class probabilities with onnxruntime, one session per process.

    The session is made in the process that scores, on first use or on `warm_up()`: onnxruntime
    must not even be imported before gunicorn forks its workers (a forked worker then hangs when
    it exits, so every SIGTERM would wait out the graceful timeout).
    """

    def __init__(self, data: bytes, source: object):
        self._data, self._source = data, source
        self._session: Any = None
        self._owner_pid = 0

    def warm_up(self) -> None:
        if self._owner_pid == os.getpid():
            return
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread per call: gunicorn's workers are the parallelism.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(self._data, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(f"{self._source}: not a loadable ONNX model ({error})") from None
        (self._input_name,) = [node.name for node in self._session.get_inputs()]
        self._run_options = onnxruntime.RunOptions()  # made once: without it, each run makes its own (5 µs)
        self._owner_pid = os.getpid()

    def __call__(self, features: np.ndarray) -> np.ndarray:
        self.warm_up()
        return self._session.run(["probabilities"], {self._input_name: features}, self._run_options)[0]


def predict(model: LoadedModel, features: np.ndarray) -> tuple[list[str], np.ndarray]:
{%- if cookiecutter.example_task == "text" %}
    """Labels, and a rows x classes array of probabilities in `class_labels` order, for texts the API has validated.
{%- else %}
    """Labels, and a rows x classes array of probabilities in `class_labels` order, for rows validated as finite.
{%- endif %}

    The probabilities stay an array (C-ordered float64, as orjson wants it): the API's JSON encoder
    writes it as it is, which for 1000 rows saves the 160 µs that turning it into lists costs."""
    probabilities = np.ascontiguousarray(model.probabilities(features), dtype=np.float64)
    unscorable = ~np.isfinite(probabilities).all(axis=1)
    if unscorable.any():
        raise UnscorableRows(np.flatnonzero(unscorable).tolist())
    return model.label_array[probabilities.argmax(axis=1)].tolist(), probabilities
