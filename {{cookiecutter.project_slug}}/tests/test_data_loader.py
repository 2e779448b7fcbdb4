import numpy as np
import pytest

from {{ cookiecutter.package_name }}.data.data_loader import (
    IRIS_FEATURES,
    DataError,
    load_dataset,
    read_feature_csv,
    split_dataset,
)

GOOD_CSV = "a,b,label\n1,2,x\n3,4,x\n5,6,y\n7,8.5,y\n"


@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "data.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_bundled_iris_has_named_features_and_string_labels(make_config):
    dataset = load_dataset(make_config().data)
    assert dataset.features.shape == (150, 4)
    assert dataset.feature_names == IRIS_FEATURES
    assert sorted(set(dataset.labels)) == ["setosa", "versicolor", "virginica"]


def test_a_csv_loads_every_non_target_column_as_a_feature(make_config, csv_file):
    config = make_config(data={"source": "csv", "csv_path": str(csv_file(GOOD_CSV)), "target_column": "label"})
    dataset = load_dataset(config.data)
    assert dataset.feature_names == ["a", "b"]
    assert dataset.features.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8.5]]
    assert dataset.labels.tolist() == ["x", "x", "y", "y"]


def test_a_csv_loads_only_the_configured_feature_columns(make_config, csv_file):
    data = {"source": "csv", "csv_path": str(csv_file(GOOD_CSV)), "target_column": "label", "feature_columns": ["b"]}
    assert load_dataset(make_config(data=data).data).features.tolist() == [[2], [4], [6], [8.5]]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "file is empty"),
        ("a,b,label\n", "no data rows"),
        ("a,b\n1,2\n", "target column 'label' is missing"),
        ("a,b,label\n1,2,x\n3,x\n", "line 3 has 2 fields"),
        ("a,b,label\n1,,x\n3,4,x\n5,6,y\n7,8,y\n", "line 2, column 'b' is missing a value"),
        ("a,b,label\n1,two,x\n3,4,x\n5,6,y\n7,8,y\n", "line 2, column 'b' is not a number: 'two'"),
        ("a,b,label\n1,nan,x\n3,4,x\n5,6,y\n7,8,y\n", "line 2, column 'b' is not finite"),
        ("a,b,label\n1,2,\n3,4,x\n", "line 2, column 'label' has no label"),
        ("a,b,label\n1,2,x\n3,4,x\n", "at least two classes"),
        ("a,b,label\n1,2,x\n3,4,x\n5,6,y\n", "class 'y' has a single example"),
    ],
)
def test_a_bad_csv_is_refused_naming_the_place(make_config, csv_file, text, problem):
    config = make_config(data={"source": "csv", "csv_path": str(csv_file(text)), "target_column": "label"})
    with pytest.raises(DataError, match=problem):
        load_dataset(config.data)


def test_a_csv_that_is_not_utf8_is_refused(csv_file):
    path = csv_file("")
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"not a readable UTF-8 CSV"):
        read_feature_csv(path, ["a", "b"])


def test_a_missing_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"absent.csv: file does not exist"):
        read_feature_csv(tmp_path / "absent.csv", ["a"])


def test_feature_csv_orders_columns_as_the_model_expects(csv_file):
    assert read_feature_csv(csv_file(GOOD_CSV), ["b", "a"]).tolist()[0] == [2, 1]


def test_feature_csv_names_missing_columns(csv_file):
    with pytest.raises(DataError, match=r"missing column"):
        read_feature_csv(csv_file(GOOD_CSV), ["a", "c"])


def test_the_split_is_reproducible_and_stratified(make_config):
    dataset = load_dataset(make_config().data)
    first, second = split_dataset(dataset, 0.2, 7), split_dataset(dataset, 0.2, 7)
    assert np.array_equal(first.test.features, second.test.features)
    assert len(first.test.labels) == 30
    assert sorted(np.unique(first.test.labels, return_counts=True)[1]) == [10, 10, 10]
    assert not np.array_equal(split_dataset(dataset, 0.2, 8).test.features, first.test.features)


def test_the_fingerprint_follows_the_values(make_config):
    dataset = load_dataset(make_config().data)
    split = split_dataset(dataset, 0.2, 7)
    assert dataset.fingerprint() == load_dataset(make_config().data).fingerprint()
    assert split.train.fingerprint() != dataset.fingerprint()
