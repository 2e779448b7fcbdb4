"""Reading training data for any task: a CSV's rows and columns, the task's kinds reading them, split, fingerprint.

What only this task's data holds (its bundled or sample data, its own columns) is in test_task.py.
"""

import numpy as np
import pytest

from {{ cookiecutter.package_name }} import (
    task,
)
from {{ cookiecutter.package_name }}.data.data_loader import (
    DataError,
    Dataset,
    filled_column,
    numeric_columns,
    read_rows,
    read_training_csv,
    split_dataset,
)

# Numbers, so that every kind can read them: an input kind of numbers or of texts, an output kind of classes or values.
GOOD_CSV = "a,label,b\n1.5,10.5,-1.5\n2.5,10.5,-2.5\n3.5,20.5,-3.5\n4.5,20.5,-4.5\n"


@pytest.fixture
def csv_file(tmp_path):
    def write(text):
        path = tmp_path / "data.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def data_config(make_config):
    """The data settings for a CSV, its target column 'label'."""

    def make(path, feature_columns=None):
        data = {"csv_path": str(path), "feature_columns": feature_columns, "target_column": "label"}
        return make_config(data=data).data

    return make


@pytest.fixture(scope="module")
def dataset(make_config):
    """The task's own training data, as the shipped config names it."""
    return task.load_dataset(make_config().data)


def as_written(array):
    """The values of a column as a CSV wrote them, whichever kind read them (1.5 as a number or as a text)."""
    return [str(value) for value in np.ravel(array).tolist()]


def test_read_rows_gives_the_header_and_each_row_with_its_line(csv_file):
    """Line numbers count the blank lines skipped, so an error names the line an editor shows."""
    header, rows = read_rows(csv_file(' a , b\n1,"x, y"\n\n3,4\n'))
    assert header == ["a", "b"]
    assert rows == [(2, ["1", "x, y"]), (4, ["3", "4"])]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "file is empty"),
        ("a,b\n", "has a header but no data rows"),
        ("a,b\n1,2\n3\n", "line 3 has 1 fields, the header has 2"),
        ("a,b\n1,2,3\n", "line 2 has 3 fields, the header has 2"),
    ],
)
def test_read_rows_refuses_a_bad_csv_naming_the_place(csv_file, text, problem):
    with pytest.raises(DataError, match=rf"data\.csv: {problem}"):
        read_rows(csv_file(text))


def test_a_csv_that_is_not_utf8_is_refused(csv_file):
    path = csv_file("")
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"not a readable UTF-8 CSV"):
        read_rows(path)


def test_a_missing_csv_is_named(tmp_path):
    with pytest.raises(DataError, match=r"absent\.csv: file does not exist"):
        read_rows(tmp_path / "absent.csv")


def test_filled_column_gives_the_values_as_written(csv_file):
    path = csv_file('id,text\n1,"wound care, night shifts"\n2,  spaced  \n')
    assert filled_column(path, *read_rows(path), "text", "text", "text") == ["wound care, night shifts", "  spaced  "]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,b\n1,2\n", "target column 'label' is missing \\(columns: a, b\\)"),
        ("a,label\n1,x\n2, \n", "line 3, column 'label' has no label"),
    ],
)
def test_filled_column_names_a_missing_column_or_value(csv_file, text, problem):
    path = csv_file(text)
    with pytest.raises(DataError, match=problem):
        filled_column(path, *read_rows(path), "label", "target", "label")


def test_numeric_columns_come_in_the_order_asked(csv_file):
    path = csv_file("a,b\n1,2\n3,4.5\n")
    assert numeric_columns(path, *read_rows(path), ["b", "a"]).tolist() == [[2, 1], [4.5, 3]]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a,b\n1,2\n", r"missing column\(s\) c, d \(columns: a, b\)"),
        ("a,b,c,d\n1,,3,4\n", "line 2, column 'b' is missing a value"),
        ("a,b,c,d\n1,2,3,4\n1,two,3,4\n", "line 3, column 'b' is not a number: 'two'"),
        ("a,b,c,d\n1,nan,3,4\n", "line 2, column 'b' is not finite: 'nan'"),
        ("a,b,c,d\n1,2,-inf,4\n", "line 2, column 'c' is not finite: '-inf'"),
    ],
)
def test_numeric_columns_name_the_place_of_a_bad_value(csv_file, text, problem):
    path = csv_file(text)
    with pytest.raises(DataError, match=problem):
        numeric_columns(path, *read_rows(path), ["a", "b", "c", "d"])


def test_without_feature_columns_every_column_but_the_target_is_a_feature(csv_file, data_config):
    """The task's kinds read the columns (here one, which every input kind can hold), wherever the target is."""
    config = data_config(csv_file("label,a\n10.5,1.5\n10.5,2.5\n20.5,3.5\n20.5,4.5\n"))
    dataset = read_training_csv(config, task.INPUTS, task.OUTPUTS)
    assert dataset.feature_names == ["a"]
    assert dataset.target_name == "label"
    assert as_written(dataset.features) == ["1.5", "2.5", "3.5", "4.5"]
    assert as_written(dataset.targets) == ["10.5", "10.5", "20.5", "20.5"]


def test_only_the_listed_feature_columns_are_read(csv_file, data_config):
    dataset = read_training_csv(data_config(csv_file(GOOD_CSV), ["b"]), task.INPUTS, task.OUTPUTS)
    assert dataset.feature_names == ["b"]
    assert as_written(dataset.features) == ["-1.5", "-2.5", "-3.5", "-4.5"]


@pytest.mark.parametrize(
    ("text", "feature_columns", "problem"),
    [
        ("a,b\n1,2\n3,4\n", ["a"], r"target column 'label' is missing"),
        (GOOD_CSV, ["c"], r"missing.*\bc\b|\bc\b.*missing"),
        ("a,label\n1,10\n2,10\n", ["a"], r"at least two"),
    ],
    ids=["no target column", "no feature column", "one target value"],
)
def test_a_csv_the_task_cannot_train_on_is_refused(csv_file, data_config, text, feature_columns, problem):
    with pytest.raises(DataError, match=problem):
        read_training_csv(data_config(csv_file(text), feature_columns), task.INPUTS, task.OUTPUTS)


def test_the_split_is_reproducible_and_follows_its_seed(dataset):
    first, second = (split_dataset(dataset, 0.2, 7, stratify=task.OUTPUTS.stratify) for _ in range(2))
    assert np.array_equal(first.test.features, second.test.features)
    assert np.array_equal(first.test.targets, second.test.targets)
    assert len(first.test.targets) == int(np.ceil(0.2 * len(dataset.targets)))
    assert len(first.train.targets) + len(first.test.targets) == len(dataset.targets)
    other = split_dataset(dataset, 0.2, 8, stratify=task.OUTPUTS.stratify)
    assert not np.array_equal(other.test.features, first.test.features)


def test_the_task_data_splits_as_its_output_kind_says(dataset):
    """Classes are split stratified, each keeping its share of the held-out rows; values have no classes to keep."""
    split = split_dataset(dataset, 0.2, 7, stratify=task.OUTPUTS.stratify)
    if task.OUTPUTS.stratify:
        classes, counts = np.unique(dataset.targets, return_counts=True)
        held_out = dict(zip(*np.unique(split.test.targets, return_counts=True), strict=True))
        for label, count in zip(classes, counts, strict=True):
            assert abs(held_out[label] - count * 0.2) <= 1, label
    else:
        assert len(np.unique(split.test.targets)) > 1


def test_a_stratified_split_keeps_a_rare_class_in_proportion():
    data = Dataset(np.arange(100.0).reshape(-1, 1), np.array(["common"] * 90 + ["rare"] * 10), ["x"], "label")
    for seed in range(5):
        held_out = split_dataset(data, 0.1, seed, stratify=True).test.targets
        assert sorted(held_out.tolist()) == ["common"] * 9 + ["rare"]


def test_an_unstratified_split_takes_targets_that_are_all_different():
    """A number has no class: stratifying values would fail, each one being a class of a single row."""
    data = Dataset(np.arange(50.0).reshape(-1, 1), np.linspace(0, 1, 50), ["x"], "value")
    split = split_dataset(data, 0.2, 7, stratify=False)
    assert len(split.test.targets) == 10
    with pytest.raises(ValueError, match="least populated class"):
        split_dataset(data, 0.2, 7, stratify=True)


def test_the_fingerprint_follows_the_task_data(make_config, dataset):
    assert dataset.fingerprint() == task.load_dataset(make_config().data).fingerprint()
    assert split_dataset(dataset, 0.2, 7, stratify=task.OUTPUTS.stratify).train.fingerprint() != dataset.fingerprint()


@pytest.mark.parametrize(
    "features",
    [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array(["one text", "another"], dtype=object)],
    ids=["numbers", "texts"],
)
def test_the_fingerprint_changes_with_any_value_name_or_target(features):
    base = Dataset(features, np.array(["x", "y"]), ["a", "b"], "label")
    changed = features.copy()
    changed.flat[1] = changed.flat[0]
    variants = [
        Dataset(changed, base.targets, base.feature_names, "label"),
        Dataset(features, np.array(["x", "x"]), base.feature_names, "label"),
        Dataset(features, base.targets, ["a", "c"], "label"),
    ]
    assert base.fingerprint() == Dataset(features.copy(), base.targets.copy(), ["a", "b"], "label").fingerprint()
    fingerprints = {base.fingerprint(), *(variant.fingerprint() for variant in variants)}
    assert len(fingerprints) == 4
