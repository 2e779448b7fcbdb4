import numpy as np
import pytest
{%- if cookiecutter.example_task == "text" %}

from {{ cookiecutter.package_name }}.data.data_loader import (
    DataError,
    load_dataset,
    read_text_csv,
    split_dataset,
)

GOOD_CSV = 'id,text,label\n1,nurse,nurse\n2,"wound care, night shifts",nurse\n3,sold software,sales\n4,deals,sales\n'
{%- else %}

from {{ cookiecutter.package_name }}.data.data_loader import (
    IRIS_FEATURES,
    DataError,
    load_dataset,
    read_feature_csv,
    split_dataset,
)

GOOD_CSV = "a,b,label\n1,2,x\n3,4,x\n5,6,y\n7,8.5,y\n"
{%- endif %}


@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "data.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write
{%- if cookiecutter.example_task == "text" %}


def test_the_shipped_sample_has_60_texts_of_each_of_six_roles(make_config):
    dataset = load_dataset(make_config().data)
    assert dataset.feature_names == ["text"]
    roles, counts = np.unique(dataset.labels, return_counts=True)
    assert roles.tolist() == ["accountant", "data_scientist", "nurse", "sales", "software_engineer", "teacher"]
    assert counts.tolist() == [60] * 6
    assert all(isinstance(text, str) and text.strip() for text in dataset.features)


def test_a_csv_loads_its_text_and_target_columns(make_config, csv_file):
    config = make_config(data={"csv_path": str(csv_file(GOOD_CSV))})
    dataset = load_dataset(config.data)
    assert dataset.features.tolist() == ["nurse", "wound care, night shifts", "sold software", "deals"]
    assert dataset.labels.tolist() == ["nurse", "nurse", "sales", "sales"]


def test_the_columns_are_configurable(make_config, csv_file):
    path = csv_file("resume,role\nkind nurse,nurse\nnight shifts,nurse\nsold software,sales\nclosed deals,sales\n")
    data = {"csv_path": str(path), "text_column": "resume", "target_column": "role"}
    dataset = load_dataset(make_config(data=data).data)
    assert dataset.feature_names == ["resume"]
    assert dataset.labels.tolist() == ["nurse", "nurse", "sales", "sales"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "file is empty"),
        ("text,label\n", "no data rows"),
        ("text\nhello\n", "target column 'label' is missing"),
        ("body,label\nhello,x\n", "text column 'text' is missing"),
        ("text,label\nhello,x\nthere\n", "line 3 has 1 fields"),
        ("text,label\n  ,x\nb,x\nc,y\nd,y\n", "line 2, column 'text' has no text"),
        ("text,label\na,\nb,x\n", "line 2, column 'label' has no label"),
        ("text,label\na,x\nb,x\n", "at least two classes"),
        ("text,label\na,x\nb,x\nc,y\n", "class 'y' has a single example"),
    ],
)
def test_a_bad_csv_is_refused_naming_the_place(make_config, csv_file, text, problem):
    config = make_config(data={"csv_path": str(csv_file(text))})
    with pytest.raises(DataError, match=problem):
        load_dataset(config.data)


{%- else %}


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
{%- endif %}


def test_a_csv_that_is_not_utf8_is_refused(csv_file):
    path = csv_file("")
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"not a readable UTF-8 CSV"):
{%- if cookiecutter.example_task == "text" %}
        read_text_csv(path, "text")
{%- else %}
        read_feature_csv(path, ["a", "b"])
{%- endif %}


def test_a_missing_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"absent.csv: file does not exist"):
{%- if cookiecutter.example_task == "text" %}
        read_text_csv(tmp_path / "absent.csv", "text")
{%- else %}
        read_feature_csv(tmp_path / "absent.csv", ["a"])
{%- endif %}
{%- if cookiecutter.example_task == "text" %}


def test_text_csv_reads_the_named_column_as_written(csv_file):
    assert read_text_csv(csv_file(GOOD_CSV), "text").tolist()[1] == "wound care, night shifts"
{%- else %}


def test_feature_csv_orders_columns_as_the_model_expects(csv_file):
    assert read_feature_csv(csv_file(GOOD_CSV), ["b", "a"]).tolist()[0] == [2, 1]


def test_feature_csv_names_missing_columns(csv_file):
    with pytest.raises(DataError, match=r"missing column"):
        read_feature_csv(csv_file(GOOD_CSV), ["a", "c"])
{%- endif %}


def test_the_split_is_reproducible_and_stratified(make_config):
    dataset = load_dataset(make_config().data)
    first, second = split_dataset(dataset, 0.2, 7), split_dataset(dataset, 0.2, 7)
    assert np.array_equal(first.test.features, second.test.features)
{%- if cookiecutter.example_task == "text" %}
    assert len(first.test.labels) == 72
    assert sorted(np.unique(first.test.labels, return_counts=True)[1]) == [12] * 6
{%- else %}
    assert len(first.test.labels) == 30
    assert sorted(np.unique(first.test.labels, return_counts=True)[1]) == [10, 10, 10]
{%- endif %}
    assert not np.array_equal(split_dataset(dataset, 0.2, 8).test.features, first.test.features)


def test_the_fingerprint_follows_the_values(make_config):
    dataset = load_dataset(make_config().data)
    split = split_dataset(dataset, 0.2, 7)
    assert dataset.fingerprint() == load_dataset(make_config().data).fingerprint()
    assert split.train.fingerprint() != dataset.fingerprint()
