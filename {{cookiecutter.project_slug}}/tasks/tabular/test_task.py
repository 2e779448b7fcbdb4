"""What is true of the iris task only: its bundled data, how well it learns, the example's answer, iris as a CSV."""

import argparse
import csv

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import (
    task,
)
from {{ cookiecutter.package_name }}.cli import (
    train_command,
)
from {{ cookiecutter.package_name }}.data.data_loader import (
    DataError,
)
from {{ cookiecutter.package_name }}.models.model import (
    load_model,
)

TRAIN = argparse.Namespace(if_missing=False)
SPECIES = ["setosa", "versicolor", "virginica"]


@pytest.fixture(scope="module")
def iris(make_config):
    return task.load_dataset(make_config().data)


def test_the_shipped_config_trains_on_the_bundled_iris_data(make_config, iris):
    assert make_config().data.csv_path is None
    assert iris.features.shape == (150, 4)
    assert iris.feature_names == task.IRIS_FEATURES
    assert iris.target_name == make_config().data.target_column == "species"
    species, counts = np.unique(iris.targets, return_counts=True)
    assert species.tolist() == SPECIES
    assert counts.tolist() == [50, 50, 50]


def test_training_learns_iris_well(model):
    """Iris is nearly separable: a scaled logistic regression that misses more than 1 flower in 10 is broken."""
    metrics = model.metadata["metrics"]  # held out from the training the session did with the shipped config
    assert metrics["accuracy"] >= 0.9
    assert metrics["f1_macro"] >= 0.9


def test_onnxruntime_serves_the_model_s_onnx_copy(model):
    """skl2onnx reproduces this Pipeline, so training keeps its ONNX copy and the shipped config serves it; the shared
    tests that compare a copy with its Pipeline (test_model.py) run, never skip, for this task."""
    assert task.ONNX_EXPORT
    assert model.metadata["onnx_sha256"] is not None
    assert model.runtime == "onnx"


def test_the_example_is_a_setosa(model, example):
    prediction = model.predict(model.inputs.validate([example], 1))
    assert prediction.labels == ["setosa"]
    assert prediction.probabilities.max() > 0.9


def test_a_large_flower_is_a_virginica(model):
    assert model.predict(model.inputs.validate([[6.7, 3.0, 5.2, 2.3]], 1)).labels == ["virginica"]


def test_iris_as_a_csv_trains_the_same_model(make_config, tmp_path, model, iris):
    """Without data.feature_columns every column but the target is a feature, wherever the target is."""
    path = tmp_path / "iris.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        rows = [[label, *row] for row, label in zip(iris.features.tolist(), iris.targets, strict=True)]
        csv.writer(file).writerows([["species", *iris.feature_names], *rows])
    artifact = tmp_path / "model.skops"
    train_command(make_config(data={"csv_path": str(path)}, model={"artifact_path": str(artifact)}), TRAIN)
    trained = load_model(artifact, [])
    assert trained.metadata["training_data_sha256"] == model.metadata["training_data_sha256"]
    assert trained.metadata["metrics"] == model.metadata["metrics"]


def test_a_species_with_a_single_flower_is_refused(make_config, tmp_path):
    """A class seen once cannot be both learnt and held out."""
    path = tmp_path / "iris.csv"
    path.write_text("sepal_length,species\n5.1,setosa\n4.9,setosa\n6.3,virginica\n")
    with pytest.raises(DataError, match=r"class 'virginica' has a single example"):
        task.load_dataset(make_config(data={"csv_path": str(path)}).data)
