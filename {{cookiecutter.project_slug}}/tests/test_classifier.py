import hashlib
import json
import shutil

import pytest
import sklearn
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from {{ cookiecutter.package_name }}.data.data_loader import (
    load_dataset,
    split_dataset,
)
from {{ cookiecutter.package_name }}.models import (
    classifier,
)
from {{ cookiecutter.package_name }}.models.classifier import (
    ModelError,
    load_model,
    metadata_path,
    save_model,
)


@pytest.fixture(scope="module")
def split(make_config):
    config = make_config()
    return split_dataset(load_dataset(config.data), config.data.test_size, config.data.random_state)


@pytest.fixture
def saved(config, tmp_path):
    """A private copy of the session's trained artifact and metadata, free to damage."""
    artifact = tmp_path / "model.skops"
    shutil.copy(config.model.artifact_path, artifact)
    shutil.copy(metadata_path(config.model.artifact_path), metadata_path(artifact))
    return artifact


def test_hyperparameters_come_from_the_config(make_config):
    pipeline = classifier.build_pipeline(make_config(model={"hyperparameters": {"C": 0.3}}).model.hyperparameters)
    assert pipeline.named_steps["classify"].C == 0.3
    assert list(pipeline.named_steps) == ["scale", "classify"]


def test_an_unknown_hyperparameter_is_named():
    with pytest.raises(ModelError, match=r"unknown hyper-parameter.*gamma"):
        classifier.build_pipeline({"gamma": 1})


def test_training_learns_iris_well(split):
    estimator = classifier.train(classifier.build_pipeline({"max_iter": 500}), split.train)
    metrics = classifier.evaluate(estimator, split.test)
    assert metrics["accuracy"] >= 0.9
    assert metrics["f1_macro"] >= 0.9


def test_saved_metadata_describes_the_model(config, split):
    model = load_model(config.model.artifact_path, [])
    metadata = model.metadata
    assert metadata["name"] == config.model.name
    assert metadata["version"] == config.model.version
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["feature_names"] == split.train.feature_names
    assert metadata["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert metadata["training_data_sha256"] == split.train.fingerprint()
    assert set(metadata["metrics"]) == {"accuracy", "f1_macro"}
    assert len(metadata["artifact_sha256"]) == 64


def test_predictions_are_labels_with_probabilities_summing_to_one(config, split):
    model = load_model(config.model.artifact_path, [])
    labels, probabilities = classifier.predict(model, split.test.features)
    assert labels == model.estimator.predict(split.test.features).tolist()
    for row in probabilities:
        assert list(row) == model.class_labels
        assert sum(row.values()) == pytest.approx(1)


def test_a_tampered_artifact_is_refused(saved):
    saved.write_bytes(saved.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=r"sha256 does not match"):
        load_model(saved, [])


def test_a_missing_artifact_is_named(tmp_path):
    with pytest.raises(ModelError, match=r"absent.skops: file does not exist"):
        load_model(tmp_path / "absent.skops", [])


def test_missing_metadata_is_named(saved):
    metadata_path(saved).unlink()
    with pytest.raises(ModelError, match=r"model\.json: file does not exist"):
        load_model(saved, [])


@pytest.mark.parametrize(("text", "problem"), [("{", "not valid JSON"), ("[]", "no artifact_sha256")])
def test_bad_metadata_is_named(saved, text, problem):
    metadata_path(saved).write_text(text)
    with pytest.raises(ModelError, match=problem):
        load_model(saved, [])


def rewrite_metadata(artifact, **changes):
    path = metadata_path(artifact)
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_a_model_from_another_sklearn_version_is_refused(saved):
    rewrite_metadata(saved, sklearn_version="0.1")
    with pytest.raises(ModelError, match=r"trained with scikit-learn 0.1"):
        load_model(saved, [])


def test_a_corrupt_artifact_with_matching_sha256_is_named(saved):
    garbage = b"not a zip file"
    saved.write_bytes(garbage)
    rewrite_metadata(saved, artifact_sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(ModelError, match=r"not a readable skops artifact"):
        load_model(saved, [])


def test_untrusted_types_are_refused_unless_configured(tmp_path, saved):
    metadata = json.loads(metadata_path(saved).read_text())
    artifact = tmp_path / "custom.skops"
    save_model(make_pipeline(FunctionTransformer(json.loads)), metadata, artifact)
    with pytest.raises(ModelError, match=r"untrusted type.*json.loads"):
        load_model(artifact, [])
    assert load_model(artifact, ["json.loads"]).estimator.steps


def test_saving_leaves_no_temporary_files(saved):
    assert sorted(path.name for path in saved.parent.iterdir()) == ["model.json", "model.skops"]
