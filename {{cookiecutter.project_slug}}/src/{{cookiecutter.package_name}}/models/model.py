"""Build, train, evaluate, save, load and run the task's model; nothing here knows about HTTP.

What the model is (its steps, its data, what it takes and answers) is the task's (`task.py`);
this module does the same for any task. Two artifacts are written, and a JSON metadata file beside
them records what was trained, on what, and the sha256 of each; loading checks every sha256 and
the metadata's fields before it uses anything.
- `model.skops`: the fitted scikit-learn Pipeline, with skops rather than pickle (loading a
  pickle runs whatever code it names; skops refuses every type not on a trusted list).
- `model.onnx`: the same Pipeline exported to ONNX, kept only if it predicts as the Pipeline does
  on the held-out data (within the output kind's tolerance). ONNX holds no code, and onnxruntime
  answers one row some 20 times faster than scikit-learn's per-call checks allow, so it serves by
  default. A task whose Pipeline skl2onnx cannot reproduce says so (`task.ONNX_EXPORT`).
scikit-learn, skops and skl2onnx are imported only where training or the scikit-learn runtime
needs them, so a server running ONNX starts without importing them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import task
from ..schemas import Inputs, Outputs

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

    from ..data.data_loader import Dataset

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """The model artifact cannot be trusted or used."""


@dataclasses.dataclass(frozen=True)
class LoadedModel:
    """A verified model: its metadata, what it takes and answers (the task's kinds, read from the metadata),
    and the function that scores rows with the chosen runtime."""

    metadata: dict[str, Any]
    scores: Callable[[np.ndarray], np.ndarray]
    runtime: str
    inputs: Inputs
    outputs: Outputs

    @property
    def name(self) -> str:
        name: str = self.metadata["name"]
        return name

    @property
    def version(self) -> str:
        version: str = self.metadata["version"]
        return version

    def predict(self, features: np.ndarray) -> Any:
        """The answer for rows the inputs have validated, in the output kind's terms."""
        return self.outputs.predict(self.scores(features))

    def warm_up(self) -> None:
        """Make the runtime ready in this process (raises ModelError if it cannot be)."""
        warm_up = getattr(self.scores, "warm_up", None)
        if warm_up:
            warm_up()


def build_pipeline(hyperparameters: Mapping[str, Any]) -> Pipeline:
    """The task's steps, each made with its hyper-parameters from the config (model.hyperparameters.<step>)."""
    from sklearn.pipeline import Pipeline

    steps = task.pipeline_steps()
    unknown = sorted(set(hyperparameters) - set(steps))
    if unknown:
        raise ModelError(f"unknown step(s) {', '.join(unknown)} in the hyper-parameters (steps: {', '.join(steps)})")
    return Pipeline([(name, _configured(step, hyperparameters.get(name) or {})) for name, step in steps.items()])


def _configured(estimator: type, hyperparameters: Mapping[str, Any]) -> Any:
    """`estimator` made with the config's hyper-parameters; YAML has no tuples, so lists become tuples."""
    if not isinstance(hyperparameters, Mapping):
        raise ModelError(f"the hyper-parameters of {estimator.__name__} must be a mapping of names to values")
    unknown = sorted(set(hyperparameters) - set(estimator().get_params()))
    if unknown:
        raise ModelError(f"unknown hyper-parameter(s) {', '.join(unknown)} for {estimator.__name__}")
    settings = {name: tuple(value) if isinstance(value, list) else value for name, value in hyperparameters.items()}
    return estimator(**settings)


def train(pipeline: Pipeline, data: Dataset) -> Pipeline:
    return pipeline.fit(data.features, data.targets)


def evaluate(estimator: Pipeline, data: Dataset) -> dict[str, float]:
    """The output kind's scores on held-out data (schemas/<kind>.py, `evaluate`, says which and why)."""
    return task.OUTPUTS.evaluate(estimator, data)


def describe(
    estimator: Pipeline,
    *,
    name: str,
    version: str,
    train_data: Dataset,
    metrics: Mapping[str, float],
    lineage: Mapping[str, Any],
) -> dict[str, Any]:
    """The metadata saved beside the artifacts (save_model adds their sha256): what was trained, with what,
    on what, and what the task's kinds need to read it back (feature names and ranges, class labels)."""
    import sklearn
    import skops

    return {
        "name": name,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python_version": platform.python_version(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        **task.INPUTS.describe(train_data),
        "target_name": train_data.target_name,
        **task.OUTPUTS.describe(estimator),
        "hyperparameters": {name: _settings(step) for name, step in estimator.steps},
        "metrics": dict(metrics),
        "training_rows": len(train_data.targets),
        "training_data_sha256": train_data.fingerprint(),
        **lineage,
    }


def lineage(settings: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Where a model comes from beyond its data: the git commit of the code in `folder` and whether that tree
    had changes not committed (both null outside a git repository, or without git: an installed package,
    an image built without .git), and a hash of the settings
    it was trained with (the config's data, model and inputs sections, as loaded: overrides included)."""
    commit, dirty = _git_state(folder)
    text = json.dumps(settings, sort_keys=True, default=str)
    return {"git_commit": commit, "git_dirty": dirty, "config_sha256": _sha256(text.encode())}


def _git_state(folder: Path) -> tuple[str | None, bool | None]:
    git = shutil.which("git")
    if git is None:
        return None, None
    ask = functools.partial(subprocess.run, cwd=folder, capture_output=True, text=True, timeout=30)
    head = ask([git, "rev-parse", "--verify", "HEAD"])
    if head.returncode != 0:  # not a repository, or one without a commit yet
        return None, None
    changes = ask([git, "status", "--porcelain", "--untracked-files=no"])
    return head.stdout.strip(), bool(changes.stdout.strip())


def _settings(step: Any) -> dict[str, Any]:
    """A step's hyper-parameters, less those scikit-learn marks "deprecated" (LogisticRegression's
    `penalty` in 1.9): they set nothing, and a listing of them would mislead."""
    settings = step.get_params().items()
    return {name: value for name, value in settings if not (isinstance(value, str) and value == "deprecated")}


def export_onnx(estimator: Pipeline, held_out: Dataset) -> bytes | None:
    """The Pipeline as ONNX (float64, so nothing is lost to rounding), or None if the task has none, it
    cannot be converted, or its copy does not predict as the Pipeline does on the held-out rows."""
    if not task.ONNX_EXPORT:
        return None
    from skl2onnx import to_onnx

    outputs = task.OUTPUTS
    try:
        exported = to_onnx(estimator, held_out.features[:1], options=outputs.onnx_options(estimator))
    except Exception as error:  # skl2onnx raises many kinds for what it cannot convert
        # Some messages hold the whole model's text: the first line says what failed.
        log.warning("no ONNX export, scikit-learn will serve", extra={"reason": str(error).strip()[:300]})
        return None
    data: bytes = exported.SerializeToString()
    try:
        exported_scores = OnnxScorer(data, "the ONNX export", outputs.onnx_output)(held_out.features)
    except ModelError as error:  # converted, but onnxruntime cannot run it (e.g. float64 tree ensembles)
        log.warning("ONNX export does not run, scikit-learn will serve", extra={"reason": str(error)})
        return None
    expected = getattr(estimator, outputs.sklearn_method)(held_out.features)
    difference = float(np.abs(exported_scores.reshape(expected.shape) - expected).max())
    if difference > outputs.onnx_tolerance:
        log.warning("ONNX export disagrees with scikit-learn, dropped", extra={"difference": difference})
        return None
    return data


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
        # mkstemp's file is its owner's alone; the image trains as root and serves as another user.
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_model(
    artifact_path: str | Path,
    trusted_types: list[str],
    runtime: str = "onnx",
    input_settings: Mapping[str, Any] | None = None,
) -> LoadedModel:
    """Verify every artifact's sha256 and the metadata's fields, then load the one the runtime needs.

    "onnx" falls back to scikit-learn when the model has no ONNX copy (the task has none, or skl2onnx
    could not convert it). `input_settings` are the config's `inputs` (limits of the input kind, if it has any).
    """
    artifact_path = Path(artifact_path)
    data = _read_artifact(artifact_path)
    metadata = _read_metadata(metadata_path(artifact_path))
    _check_sha256(artifact_path, data, metadata["artifact_sha256"])
    try:
        inputs = task.INPUTS.from_metadata(metadata, input_settings or {})
        outputs = task.OUTPUTS.from_metadata(metadata)
    except ValueError as error:
        raise ModelError(f"{metadata_path(artifact_path)}: {error}") from None
    kinds: dict[str, Any] = {"inputs": inputs, "outputs": outputs}
    if metadata.get("onnx_sha256"):
        onnx = _read_artifact(onnx_path(artifact_path))
        _check_sha256(onnx_path(artifact_path), onnx, metadata["onnx_sha256"])
        if runtime == "onnx":
            return LoadedModel(
                metadata, OnnxScorer(onnx, onnx_path(artifact_path), outputs.onnx_output), "onnx", **kinds
            )
    estimator = _load_skops(artifact_path, data, metadata, trusted_types)
    scores = functools.partial(_sklearn_scores, getattr(estimator, outputs.sklearn_method))
    return LoadedModel(metadata, scores, "sklearn", **kinds)


# The fields every model's metadata has, and what each must be; the task's kinds check their own
# (feature names and ranges, class labels, ...) in from_metadata.
METADATA_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "a string"),
    "version": (str, "a string"),
    "created_at": (str, "a string"),
    "sklearn_version": (str, "a string"),
    "target_name": (str, "a string"),
    "hyperparameters": (dict, "an object"),
    "metrics": (dict, "an object of numbers"),
    "training_rows": (int, "a whole number"),
    "onnx_sha256": ((str, type(None)), "a string or null"),
    # Lineage (null for a model trained outside git, or before it was recorded).
    "git_commit": ((str, type(None)), "a string or null"),
    "git_dirty": ((bool, type(None)), "true, false or null"),
    "config_sha256": ((str, type(None)), "a string or null"),
}


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(_read_artifact(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelError(f"{path}: metadata is not valid JSON") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("artifact_sha256"), str):
        raise ModelError(f"{path}: metadata has no artifact_sha256")
    for field, (kind, rule) in METADATA_FIELDS.items():
        value: Any = metadata.get(field)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wrong = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
        if wrong or (field == "metrics" and not all(_is_number(score) for score in value.values())):
            raise ModelError(f"{path}: metadata field '{field}' must be {rule}")
    return metadata


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _read_artifact(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: file does not exist; train a model first") from None
    except OSError as error:  # a folder in its place, no permission, a disk error: named, never a traceback
        raise ModelError(f"{path}: cannot be read ({error.strerror or error})") from None


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


def _sklearn_scores(method: Callable[[Any], np.ndarray], features: np.ndarray) -> np.ndarray:
    import sklearn

    # The API has already validated the rows, and fitting validated the Pipeline's parameters: skip
    # scikit-learn's own checks of both (a fifth of a call's time for one text).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        return method(features)


class OnnxScorer:
    """Rows -> the model's scores with onnxruntime, one session per process.

    The session is made in the process that scores, on first use or on `warm_up()`: onnxruntime
    must not even be imported before the server forks its workers (a forked worker then hangs when
    it exits, so every SIGTERM would wait out the graceful timeout).
    """

    def __init__(self, data: bytes, source: object, output: str):
        self._data, self._source, self._output = data, source, output
        self._session: Any = None
        self._owner_pid = 0

    def warm_up(self) -> None:
        if self._owner_pid == os.getpid():
            return
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # One thread per call: the server's worker processes are the parallelism.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(self._data, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(f"{self._source}: not a loadable ONNX model ({error})") from None
        (self._input_name,) = [node.name for node in self._session.get_inputs()]
        if self._output not in [node.name for node in self._session.get_outputs()]:
            raise ModelError(f"{self._source}: the ONNX model has no output named {self._output!r}")
        self._run_options = onnxruntime.RunOptions()  # made once: without it, each run makes its own (5 µs)
        self._owner_pid = os.getpid()

    def __call__(self, features: np.ndarray) -> np.ndarray:
        self.warm_up()
        scores: np.ndarray = self._session.run([self._output], {self._input_name: features}, self._run_options)[0]
        return scores
