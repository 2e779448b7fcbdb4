"""Build, train, evaluate, save, load and run the model; nothing here knows about HTTP.

The artifact is written with skops, not pickle: loading a pickle runs whatever code it
names, while skops refuses every type that is not on an explicit trusted list. A JSON
metadata file beside the artifact records what was trained, on what, and its sha256,
which loading checks before it reads a single object.
"""

import dataclasses
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..data.data_loader import Dataset


class ModelError(RuntimeError):
    """The model artifact cannot be trusted or used."""


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A verified estimator and the metadata it was saved with."""

    estimator: Pipeline
    metadata: dict[str, Any]

    @property
    def feature_names(self) -> list[str]:
        return self.metadata["feature_names"]

    @property
    def class_labels(self) -> list[str]:
        return self.metadata["class_labels"]


def build_pipeline(hyperparameters: Mapping[str, Any]) -> Pipeline:
    """Scaling then logistic regression, with hyper-parameters from the config."""
    known = LogisticRegression().get_params()
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise ModelError(f"unknown hyper-parameter(s) {', '.join(unknown)} for LogisticRegression")
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(**hyperparameters)),
        ]
    )


def train(pipeline: Pipeline, data: Dataset) -> Pipeline:
    return pipeline.fit(data.features, data.labels)


def evaluate(estimator: Pipeline, data: Dataset) -> dict[str, float]:
    """Scores on held-out data: accuracy, and macro F1 so that a small class counts as much as a big one."""
    predicted = estimator.predict(data.features)
    return {
        "accuracy": round(float(accuracy_score(data.labels, predicted)), 4),
        "f1_macro": round(float(f1_score(data.labels, predicted, average="macro")), 4),
    }


def describe(
    estimator: Pipeline, *, name: str, version: str, train_data: Dataset, metrics: Mapping[str, float]
) -> dict[str, Any]:
    """The metadata saved beside the artifact (its sha256 is added by save_model)."""
    return {
        "name": name,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "feature_names": list(train_data.feature_names),
        "class_labels": [str(label) for label in estimator.classes_],
        "hyperparameters": estimator.named_steps["classify"].get_params(),
        "metrics": dict(metrics),
        "training_rows": len(train_data.labels),
        "training_data_sha256": train_data.fingerprint(),
    }


def metadata_path(artifact_path: Path) -> Path:
    return Path(artifact_path).with_suffix(".json")


def save_model(estimator: Pipeline, metadata: Mapping[str, Any], artifact_path: Path) -> dict[str, Any]:
    """Write the artifact and its metadata, each atomically: a crash leaves the old pair or none."""
    artifact_path = Path(artifact_path)
    artifact_path.parent.mkdir(parents=True, exist_ok=True)
    data = skops.io.dumps(estimator)
    saved = {**metadata, "artifact_sha256": hashlib.sha256(data).hexdigest()}
    _write_atomically(artifact_path, data)
    _write_atomically(metadata_path(artifact_path), json.dumps(saved, indent=2, default=str).encode() + b"\n")
    return saved


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_model(artifact_path: Path, trusted_types: list[str]) -> LoadedModel:
    """Load the artifact only if its sha256, library versions and every type in it check out."""
    artifact_path = Path(artifact_path)
    metadata_file = metadata_path(artifact_path)
    try:
        data = artifact_path.read_bytes()
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelError(f"{error.filename}: file does not exist; train a model first") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{metadata_file}: metadata is not valid JSON") from None
    if not isinstance(metadata, dict) or "artifact_sha256" not in metadata:
        raise ModelError(f"{metadata_file}: metadata has no artifact_sha256")
    if hashlib.sha256(data).hexdigest() != metadata["artifact_sha256"]:
        raise ModelError(f"{artifact_path}: sha256 does not match {metadata_file}; the artifact was changed")
    if metadata.get("sklearn_version") != sklearn.__version__:
        raise ModelError(
            f"{artifact_path}: trained with scikit-learn {metadata.get('sklearn_version')}, "
            f"this environment has {sklearn.__version__}; retrain or install the same version"
        )
    try:
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(trusted_types)
        if untrusted:
            raise ModelError(
                f"{artifact_path}: refuses to load untrusted type(s) {', '.join(sorted(untrusted))}; "
                "add them to model.trusted_types only if you trust their code"
            )
        estimator = skops.io.loads(data, trusted=list(trusted_types))
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"{artifact_path}: not a readable skops artifact ({error})") from None
    return LoadedModel(estimator, metadata)


def predict(model: LoadedModel, features: np.ndarray) -> tuple[list[str], list[dict[str, float]]]:
    """Labels and per-class probabilities for rows already validated as finite numbers."""
    with sklearn.config_context(assume_finite=True):
        probabilities = model.estimator.predict_proba(features)
    labels = model.class_labels
    predicted = [labels[index] for index in probabilities.argmax(axis=1)]
    return predicted, [dict(zip(labels, map(float, row), strict=True)) for row in probabilities]
