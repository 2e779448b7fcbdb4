import hashlib
import json
{%- if cookiecutter.example_task != "text" %}
from pathlib import Path
{%- endif %}

{% if cookiecutter.example_task != "text" -%}
import numpy as np
{% endif -%}
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
{%- if cookiecutter.example_task != "text" %}
    export_onnx,
{%- endif %}
    load_model,
    metadata_path,
    onnx_path,
    save_model,
)


@pytest.fixture(scope="module")
def split(make_config):
    config = make_config()
    return split_dataset(load_dataset(config.data), config.data.test_size, config.data.random_state)


@pytest.fixture
def saved(copy_model, tmp_path):
    """A private copy of the session's trained artifacts and metadata, free to damage."""
    return copy_model(tmp_path / "model.skops")
{%- if cookiecutter.example_task == "text" %}


def test_hyperparameters_come_from_the_config(make_config):
    hyperparameters = {"tfidf": {"ngram_range": [1, 2]}, "classify": {"C": 0.3}}
    pipeline = classifier.build_pipeline(make_config(model={"hyperparameters": hyperparameters}).model.hyperparameters)
    assert pipeline.named_steps["tfidf"].ngram_range == (1, 2)
    assert pipeline.named_steps["classify"].C == 0.3
    assert list(pipeline.named_steps) == ["tfidf", "classify"]


@pytest.mark.parametrize(
    ("hyperparameters", "problem"),
    [
        ({"classify": {"gamma": 1}}, r"unknown hyper-parameter.*gamma for LogisticRegression"),
        ({"tfidf": {"stop": "english"}}, r"unknown hyper-parameter.*stop for TfidfVectorizer"),
        ({"svm": {}}, r"unknown step.*svm"),
    ],
)
def test_an_unknown_hyperparameter_or_step_is_named(hyperparameters, problem):
    with pytest.raises(ModelError, match=problem):
        classifier.build_pipeline(hyperparameters)


def test_training_learns_the_roles_well_but_not_perfectly(make_config, split):
    estimator = classifier.train(classifier.build_pipeline(make_config().model.hyperparameters), split.train)
    metrics = classifier.evaluate(estimator, split.test)
    assert 0.85 <= metrics["accuracy"] < 1
    assert 0.85 <= metrics["f1_macro"] < 1


{%- else %}


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
{%- endif %}


def test_saved_metadata_describes_the_model(config, split):
    model = load_model(config.model.artifact_path, [])
    metadata = model.metadata
    assert metadata["name"] == config.model.name
    assert metadata["version"] == config.model.version
    assert metadata["sklearn_version"] == sklearn.__version__
    assert metadata["feature_names"] == split.train.feature_names
{%- if cookiecutter.example_task == "text" %}
    assert metadata["class_labels"] == sorted(set(split.train.labels))
    assert metadata["hyperparameters"]["classify"]["C"] == config.model.hyperparameters["classify"]["C"]
    assert metadata["onnx_sha256"] is None
{%- else %}
    ranges = [[metadata["feature_ranges"][name][end] for end in ("min", "max")] for name in metadata["feature_names"]]
    assert ranges == np.stack([split.train.features.min(axis=0), split.train.features.max(axis=0)], axis=1).tolist()
    assert metadata["class_labels"] == ["setosa", "versicolor", "virginica"]
{%- endif %}
    assert metadata["training_data_sha256"] == split.train.fingerprint()
    assert set(metadata["metrics"]) == {"accuracy", "f1_macro"}
    assert len(metadata["artifact_sha256"]) == 64


@pytest.mark.parametrize("runtime", ["onnx", "sklearn"])
def test_predictions_are_the_most_probable_labels_with_probabilities_summing_to_one(config, split, runtime):
    model = load_model(config.model.artifact_path, [], runtime)
{%- if cookiecutter.example_task == "text" %}
    assert model.runtime == "sklearn"  # no ONNX copy to serve
{%- else %}
    assert model.runtime == runtime
{%- endif %}
    labels, probabilities = classifier.predict(model, split.test.features)
    assert probabilities.shape == (len(split.test.labels), len(model.class_labels))
    assert probabilities.sum(axis=1) == pytest.approx(1)
    assert labels == [model.class_labels[row.argmax()] for row in probabilities]
{%- if cookiecutter.example_task != "text" %}


def test_onnx_predicts_exactly_as_scikit_learn_on_held_out_data(config, split):
    onnx = classifier.predict(load_model(config.model.artifact_path, [], "onnx"), split.test.features)
    sklearn_ = classifier.predict(load_model(config.model.artifact_path, [], "sklearn"), split.test.features)
    assert onnx[0] == sklearn_[0]
    for onnx_row, sklearn_row in zip(onnx[1], sklearn_[1], strict=True):
        assert onnx_row == pytest.approx(sklearn_row, rel=0, abs=classifier.ONNX_TOLERANCE)


def test_a_pipeline_onnx_cannot_convert_is_served_by_scikit_learn(tmp_path, split, saved):
    pipeline = make_pipeline(FunctionTransformer(np.round), classifier.build_pipeline({})).fit(
        split.train.features, split.train.labels
    )
    assert export_onnx(pipeline, split.test) is None
    metadata = json.loads(metadata_path(saved).read_text())
    save_model(pipeline, metadata, tmp_path / "custom.skops")
    assert not onnx_path(tmp_path / "custom.skops").exists()
    model = load_model(tmp_path / "custom.skops", ["numpy.round"], "onnx")
    assert model.runtime == "sklearn"
    assert classifier.predict(model, split.test.features)[0] == pipeline.predict(split.test.features).tolist()


def test_an_onnx_copy_that_disagrees_is_dropped(monkeypatch, config, split):
    estimator = classifier.train(classifier.build_pipeline({"max_iter": 500}), split.train)
    assert export_onnx(estimator, split.test) is not None
    monkeypatch.setattr(classifier, "ONNX_TOLERANCE", -1.0)  # no copy can be that close
    assert export_onnx(estimator, split.test) is None
{%- endif %}
{%- if cookiecutter.example_task == "text" %}


@pytest.mark.parametrize("runtime", ["onnx", "sklearn"])
def test_a_tampered_artifact_is_refused_whichever_runtime_serves(saved, runtime):
    saved.write_bytes(saved.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=rf"{saved.name}: sha256 does not match"):
        load_model(saved, [], runtime)
{%- else %}


@pytest.mark.parametrize("tampered", [Path, onnx_path], ids=["skops", "onnx"])
@pytest.mark.parametrize("runtime", ["onnx", "sklearn"])
def test_a_tampered_artifact_is_refused_whichever_runtime_serves(saved, tampered, runtime):
    path = tampered(saved)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match=rf"{path.name}: sha256 does not match"):
        load_model(saved, [], runtime)
{%- endif %}


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
        load_model(saved, [], "sklearn")


def test_a_corrupt_artifact_with_matching_sha256_is_named(saved):
    garbage = b"not a zip file"
    saved.write_bytes(garbage)
    rewrite_metadata(saved, artifact_sha256=hashlib.sha256(garbage).hexdigest())
    with pytest.raises(ModelError, match=r"not a readable skops artifact"):
        load_model(saved, [], "sklearn")


def test_a_corrupt_onnx_copy_with_matching_sha256_is_named(saved):
    garbage = b"not an onnx model"
    onnx_path(saved).write_bytes(garbage)
    rewrite_metadata(saved, onnx_sha256=hashlib.sha256(garbage).hexdigest())
    model = load_model(saved, [], "onnx")  # onnxruntime is not touched until the serving process needs it
    with pytest.raises(ModelError, match=r"model.onnx: not a loadable ONNX model"):
        model.warm_up()


def test_untrusted_types_are_refused_unless_configured(tmp_path, saved):
    metadata = json.loads(metadata_path(saved).read_text())
    artifact = tmp_path / "custom.skops"
    save_model(make_pipeline(FunctionTransformer(json.loads)), metadata, artifact)
    with pytest.raises(ModelError, match=r"untrusted type.*json.loads"):
        load_model(artifact, [])
    assert load_model(artifact, ["json.loads"]).runtime == "sklearn"


def test_saving_leaves_no_temporary_files(saved):
{%- if cookiecutter.example_task == "text" %}
    assert sorted(path.name for path in saved.parent.iterdir()) == ["model.json", "model.skops"]
{%- else %}
    assert sorted(path.name for path in saved.parent.iterdir()) == ["model.json", "model.onnx", "model.skops"]
{%- endif %}
