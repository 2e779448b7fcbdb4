"""The model's life for any task: built from the config, trained, described, exported, saved, verified and loaded.

What the task's model must learn, and its known answers, are in test_task.py.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from {{ cookiecutter.package_name }} import (
    task,
)
from {{ cookiecutter.package_name }}.data.data_loader import (
    split_dataset,
)
from {{ cookiecutter.package_name }}.models.model import (
    ModelError,
    build_pipeline,
    export_onnx,
    load_model,
    metadata_path,
    onnx_path,
    save_model,
    train,
)

# What a model is loaded from: its skops file, and its ONNX copy when it has one (the `saved` model always does).
ARTIFACTS = [".skops", ".onnx"]
RUNTIMES = ["onnx", "sklearn"]


@pytest.fixture(scope="module")
def split(make_config):
    data = make_config().data
    return split_dataset(task.load_dataset(data), data.test_size, data.random_state, stratify=task.OUTPUTS.stratify)


@pytest.fixture(scope="module")
def estimator(make_config, split):
    """The Pipeline the session's model is: the config's hyper-parameters, trained on the same split."""
    return train(build_pipeline(make_config().model.hyperparameters), split.train)


@pytest.fixture(scope="module")
def load(make_config):
    """load(path, trusted_types=(), runtime="onnx"): load_model as the service calls it, with the input settings and
    the configured trusted types (those an estimator of one's own needs), and `trusted_types` besides."""
    config = make_config()

    def load_with_settings(path, trusted_types=(), runtime="onnx"):
        return load_model(path, [*config.model.trusted_types, *trusted_types], runtime, config.inputs)

    return load_with_settings


@pytest.fixture
def saved(copy_model, tmp_path, has_onnx_copy):
    """A private copy of the session's trained model, free to damage, with an ONNX copy: the trained one, or a
    stand-in with its sha256 in the metadata when training kept none (what is checked here of the copy is the file
    and its hash; test_a_corrupt_onnx_copy_with_matching_sha256_is_named shows what loading makes of bad bytes)."""
    artifact = copy_model(tmp_path / "model.skops")
    if not has_onnx_copy:
        stand_in = b"a stand-in for an ONNX copy"
        onnx_path(artifact).write_bytes(stand_in)
        rewrite_metadata(artifact, onnx_sha256=hashlib.sha256(stand_in).hexdigest())
    return artifact


def saved_metadata(artifact):
    return json.loads(metadata_path(artifact).read_text())


def rewrite_metadata(artifact, **changes):
    metadata_path(artifact).write_text(json.dumps({**saved_metadata(artifact), **changes}))


def a_changed_setting(estimator_class):
    """One of the step's hyper-parameters with a value other than its default: a flag flipped, a number raised."""
    defaults = estimator_class().get_params()
    name = next(name for name, value in sorted(defaults.items()) if type(value) in (bool, int, float))
    default = defaults[name]
    return name, (not default) if type(default) is bool else default + 1


def test_hyperparameters_come_from_the_config_per_step(make_config):
    steps = task.pipeline_steps()
    settings = {name: dict([a_changed_setting(step)]) for name, step in steps.items()}
    pipeline = build_pipeline(make_config(model={"hyperparameters": settings}).model.hyperparameters)
    assert list(pipeline.named_steps) == list(steps)
    for name, changed in settings.items():
        step = pipeline.named_steps[name]
        assert type(step) is steps[name]
        assert {key: step.get_params()[key] for key in changed} == changed


def test_a_list_in_the_config_becomes_a_tuple():
    """YAML has no tuples, and scikit-learn wants some settings as one (a TF-IDF's ngram_range)."""
    name, step = next(iter(task.pipeline_steps().items()))
    setting = sorted(step().get_params())[0]
    assert build_pipeline({name: {setting: [1, 2]}}).named_steps[name].get_params()[setting] == (1, 2)


def test_a_step_left_out_of_the_config_keeps_its_defaults():
    for name, step in build_pipeline({}).steps:
        assert step.get_params() == type(step)().get_params(), name


@pytest.mark.parametrize("step", list(task.pipeline_steps()))
def test_an_unknown_hyperparameter_is_named_with_its_estimator(step):
    estimator_name = task.pipeline_steps()[step].__name__
    with pytest.raises(ModelError, match=rf"unknown hyper-parameter\(s\) no_such_setting for {estimator_name}"):
        build_pipeline({step: {"no_such_setting": 1}})


def test_an_unknown_step_is_named_with_the_known_ones():
    known = ", ".join(task.pipeline_steps())
    with pytest.raises(ModelError, match=rf"unknown step\(s\) no_such_step in the hyper-parameters \(steps: {known}\)"):
        build_pipeline({"no_such_step": {}})


def test_a_step_whose_hyperparameters_are_not_a_mapping_is_named():
    name, step = next(iter(task.pipeline_steps().items()))
    with pytest.raises(ModelError, match=rf"hyper-parameters of {step.__name__} must be a mapping"):
        build_pipeline({name: 3})


def test_every_saved_file_is_readable_by_other_users(config):
    """The image trains as root and serves as user 10001, which must be able to read what training wrote."""
    artifact = Path(config.model.artifact_path)
    for path in (artifact, metadata_path(artifact), onnx_path(artifact)):
        if path.exists():
            assert path.stat().st_mode & 0o777 == 0o644, path


def test_saved_metadata_describes_the_model(load, config, split, estimator):
    metadata = load(config.model.artifact_path).metadata
    assert metadata["name"] == config.model.name
    assert metadata["version"] == config.model.version
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["feature_names"] == split.train.feature_names
    assert metadata["target_name"] == split.train.target_name
    assert metadata["training_rows"] == len(split.train.targets)
    assert metadata["training_data_sha256"] == split.train.fingerprint()
    assert metadata["metrics"] == task.OUTPUTS.evaluate(estimator, split.test)
    # What the task's kinds need to read the model back (feature ranges, class labels, ...), as they described it.
    kinds = json.loads(json.dumps({**task.INPUTS.describe(split.train), **task.OUTPUTS.describe(estimator)}))
    assert {key: metadata[key] for key in kinds} == kinds
    for step, settings in config.model.hyperparameters.items():
        recorded = {key: metadata["hyperparameters"][step][key] for key in settings}
        assert recorded == json.loads(json.dumps(settings))
    recorded_values = [value for settings in metadata["hyperparameters"].values() for value in settings.values()]
    assert "deprecated" not in recorded_values  # scikit-learn's mark for a parameter that sets nothing
    assert len(metadata["artifact_sha256"]) == 64
    copy = onnx_path(config.model.artifact_path)  # kept only when it predicts as the Pipeline does
    assert metadata["onnx_sha256"] == (hashlib.sha256(copy.read_bytes()).hexdigest() if copy.exists() else None)


@pytest.fixture
def onnx_copy(has_onnx_copy):
    """For the tests that compare an ONNX copy with its Pipeline: the session's model must have one."""
    if not has_onnx_copy:
        pytest.skip("the model has no ONNX copy (the task exports none, or skl2onnx cannot reproduce its Pipeline)")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_onnx_serves_when_the_model_has_a_copy_and_scikit_learn_otherwise(load, config, has_onnx_copy, runtime):
    served = "onnx" if runtime == "onnx" and has_onnx_copy else "sklearn"
    assert load(config.model.artifact_path, runtime=runtime).runtime == served


@pytest.mark.usefixtures("onnx_copy")
def test_onnx_and_scikit_learn_agree_on_held_out_data(load, config, split):
    onnx, scikit_learn = (load(config.model.artifact_path, runtime=runtime) for runtime in RUNTIMES)
    rows = split.test.features
    expected = scikit_learn.scores(rows)
    tolerance = task.OUTPUTS.onnx_tolerance
    np.testing.assert_allclose(onnx.scores(rows).reshape(expected.shape), expected, rtol=0, atol=tolerance)
    answered = [model.outputs.answer(model.predict(rows))["predictions"] for model in (onnx, scikit_learn)]
    assert answered[0] == pytest.approx(answered[1], abs=tolerance)  # abs alone: no relative tolerance


def test_a_pipeline_onnx_cannot_convert_is_served_by_scikit_learn(load, make_config, split, saved):
    """skl2onnx has no converter for a NumPy function step: the model loses its ONNX copy, not its service."""
    pipeline = make_pipeline(FunctionTransformer(np.asarray), build_pipeline(make_config().model.hyperparameters))
    pipeline.fit(split.train.features, split.train.targets)
    assert export_onnx(pipeline, split.test) is None
    save_model(pipeline, saved_metadata(saved), saved)  # over a model that had an ONNX copy
    assert not onnx_path(saved).exists()
    model = load(saved, ["numpy.asarray"], "onnx")
    assert model.runtime == "sklearn"
    expected = getattr(pipeline, task.OUTPUTS.sklearn_method)(split.test.features)
    np.testing.assert_array_equal(model.scores(split.test.features), expected)


@pytest.mark.usefixtures("onnx_copy")
def test_an_onnx_copy_that_disagrees_is_dropped(monkeypatch, split, estimator):
    assert export_onnx(estimator, split.test) is not None
    monkeypatch.setattr(task.OUTPUTS, "onnx_tolerance", -1.0)  # no copy can be that close
    assert export_onnx(estimator, split.test) is None


def test_a_task_without_onnx_export_gets_no_copy(monkeypatch, split, estimator):
    monkeypatch.setattr(task, "ONNX_EXPORT", False)
    assert export_onnx(estimator, split.test) is None


@pytest.mark.parametrize("suffix", ARTIFACTS)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_tampered_artifact_is_refused_whichever_runtime_serves(load, saved, suffix, runtime):
    path = saved.with_suffix(suffix)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=rf"{path.name}: sha256 does not match its metadata"):
        load(saved, runtime=runtime)


@pytest.mark.parametrize("suffix", [*ARTIFACTS, ".json"])
def test_a_missing_artifact_or_metadata_is_named(load, saved, suffix):
    path = saved.with_suffix(suffix)
    path.unlink()
    with pytest.raises(ModelError, match=rf"{path.name}: file does not exist; train a model first"):
        load(saved)


@pytest.mark.parametrize("suffix", [*ARTIFACTS, ".json"])
def test_an_unreadable_artifact_or_metadata_is_named(load, saved, suffix):
    path = saved.with_suffix(suffix)
    path.unlink()
    path.mkdir()  # a folder where the file should be (as root, a file without read permission would still read)
    with pytest.raises(ModelError, match=rf"{path.name}: cannot be read \(Is a directory\)"):
        load(saved)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ["a", "list"]),
        ("version", None),
        ("created_at", 20260101),
        ("sklearn_version", 1.9),
        ("target_name", 3),
        ("hyperparameters", "C=1"),
        ("metrics", "good"),
        ("metrics", {"score": "0.9"}),
        ("metrics", {"score": True}),
        ("training_rows", 1.5),
        ("onnx_sha256", 0),
    ],
)
def test_a_metadata_field_of_the_wrong_type_is_refused_naming_it(load, saved, field, value):
    """Every part of the service reads these: without this check, /model, /v2 and the metrics would answer 500."""
    rewrite_metadata(saved, **{field: value})
    with pytest.raises(ModelError, match=rf"model\.json: metadata field '{field}' must be "):
        load(saved)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "no artifact_sha256"),
        (b"{}", "no artifact_sha256"),
    ],
)
def test_bad_metadata_is_named(load, saved, data, problem):
    metadata_path(saved).write_bytes(data)
    with pytest.raises(ModelError, match=rf"model\.json: metadata (is|has) {problem}"):
        load(saved)


def test_metadata_missing_a_field_of_the_kinds_is_refused_naming_it(load, saved, split, estimator):
    """Each field the input and output kinds wrote (feature names, ranges, class labels, ...) is needed to serve."""
    fields = [*task.INPUTS.describe(split.train), *task.OUTPUTS.describe(estimator)]
    assert "feature_names" in fields
    complete = saved_metadata(saved)
    for field in fields:
        metadata_path(saved).write_text(json.dumps({key: value for key, value in complete.items() if key != field}))
        with pytest.raises(ModelError, match=rf"model\.json: metadata field '{field}'"):
            load(saved)


def test_a_model_from_another_sklearn_version_is_refused(load, saved):
    rewrite_metadata(saved, sklearn_version="0.1")
    with pytest.raises(ModelError, match=rf"trained with scikit-learn 0.1, this environment has {sklearn.__version__}"):
        load(saved, runtime="sklearn")


def test_a_corrupt_artifact_with_matching_sha256_is_named(load, saved):
    garbage = b"not a zip file"
    saved.write_bytes(garbage)
    rewrite_metadata(saved, artifact_sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(ModelError, match=r"model\.skops: not a readable skops artifact"):
        load(saved, runtime="sklearn")


def test_a_corrupt_onnx_copy_with_matching_sha256_is_named(load, saved):
    garbage = b"not an onnx model"
    onnx_path(saved).write_bytes(garbage)
    rewrite_metadata(saved, onnx_sha256=hashlib.sha256(garbage).hexdigest())
    model = load(saved, runtime="onnx")  # onnxruntime is not touched until the serving process needs it
    with pytest.raises(ModelError, match=r"model\.onnx: not a loadable ONNX model"):
        model.warm_up()


def test_untrusted_types_are_refused_unless_configured(load, tmp_path, saved):
    """A skops file may name any function; loading runs only those on the configured list."""
    artifact = tmp_path / "custom.skops"
    pipeline = make_pipeline(FunctionTransformer(json.loads), build_pipeline({}))
    save_model(pipeline, saved_metadata(saved), artifact)
    with pytest.raises(ModelError, match=r"untrusted type\(s\) json\.loads"):
        load(artifact)
    assert load(artifact, ["json.loads"]).runtime == "sklearn"


def test_saving_writes_every_artifact_and_no_temporary_file(load, tmp_path, split, estimator, saved):
    artifact = tmp_path / "fresh" / "model.skops"
    onnx = export_onnx(estimator, split.test)
    save_model(estimator, saved_metadata(saved), artifact, onnx)
    written = [".skops", ".json", *([".onnx"] if onnx else [])]
    assert sorted(path.name for path in artifact.parent.iterdir()) == sorted(f"model{s}" for s in written)
    assert load(artifact).metadata["training_data_sha256"] == split.train.fingerprint()


def test_a_failed_save_leaves_no_temporary_file(tmp_path, estimator, saved):
    artifact = tmp_path / "taken" / "model.skops"
    artifact.mkdir(parents=True)  # a folder where the artifact should go: the rename onto it fails
    (artifact / "kept").touch()
    with pytest.raises(IsADirectoryError):
        save_model(estimator, saved_metadata(saved), artifact)
    assert [path.name for path in artifact.parent.iterdir()] == ["model.skops"]
