"""Load the training data, prove it is usable, and split it the same way every time.

scikit-learn is imported only by the functions that train, so the server never pays for it.

A bad data file must fail here, naming the row and column, rather than deep inside
scikit-learn with a message about arrays.
"""

import csv
import dataclasses
import hashlib
{%- if cookiecutter.example_task != "text" %}
import math
from collections.abc import Sequence
{%- endif %}
from pathlib import Path

import numpy as np

from ..utils.helpers import DataConfig
{%- if cookiecutter.example_task != "text" %}

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
{%- endif %}


class DataError(ValueError):
    """The data cannot be used for training or prediction."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    features: np.ndarray
    labels: np.ndarray
    feature_names: list[str]

    def fingerprint(self) -> str:
        """A sha256 of the exact values trained on, recorded in the model's metadata."""
        digest = hashlib.sha256()
        digest.update("\0".join(self.feature_names).encode())
{%- if cookiecutter.example_task == "text" %}
        digest.update("\0".join(self.features).encode())
{%- else %}
        digest.update(np.ascontiguousarray(self.features, dtype=np.float64).tobytes())
{%- endif %}
        digest.update("\0".join(map(str, self.labels)).encode())
        return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Split:
    train: Dataset
    test: Dataset
{%- if cookiecutter.example_task == "text" %}


def load_dataset(config: DataConfig) -> Dataset:
    """The data set named by the config: a CSV of texts and their labels."""
    dataset = read_labelled_csv(Path(config.csv_path), config.text_column, config.target_column)
    _check_trainable(dataset)
    return dataset


def read_labelled_csv(path: Path, text_column: str, target_column: str) -> Dataset:
    """Texts and labels from a CSV with a header row; every row needs both."""
    header, rows = _read_rows(path)
    labels = _labels(path, header, rows, target_column)
    return Dataset(_texts(path, header, rows, text_column), labels, [text_column])


def read_text_csv(path: Path, text_column: str) -> np.ndarray:
    """The texts of a CSV to predict on."""
    header, rows = _read_rows(path)
    return _texts(path, header, rows, text_column)
{%- else %}


def load_dataset(config: DataConfig) -> Dataset:
    """The data set named by the config: scikit-learn's bundled iris, or a CSV file."""
    if config.source == "iris":
        from sklearn.datasets import load_iris

        iris = load_iris()
        dataset = Dataset(iris.data, iris.target_names[iris.target].astype(str), list(IRIS_FEATURES))
    else:
        dataset = read_labelled_csv(Path(config.csv_path), config.target_column, config.feature_columns)
    _check_trainable(dataset)
    return dataset


def read_labelled_csv(path: Path, target_column: str, feature_columns: Sequence[str] | None) -> Dataset:
    """Features and labels from a CSV with a header row; every feature must be a finite number."""
    header, rows = _read_rows(path)
    labels = _labels(path, header, rows, target_column)
    names = list(feature_columns) if feature_columns else [name for name in header if name != target_column]
    return Dataset(_numeric_columns(path, header, rows, names), labels, names)


def read_feature_csv(path: Path, feature_names: Sequence[str]) -> np.ndarray:
    """The feature matrix of a CSV to predict on, columns in the model's order."""
    header, rows = _read_rows(path)
    return _numeric_columns(path, header, rows, list(feature_names))
{%- endif %}


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            header = [name.strip() for name in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if row]
    except FileNotFoundError:
        raise DataError(f"{path}: file does not exist") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({error})") from None
    if not header:
        raise DataError(f"{path}: file is empty")
    if not rows:
        raise DataError(f"{path}: has a header but no data rows")
    for line, row in rows:
        if len(row) != len(header):
            raise DataError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
    return header, rows


def _labels(path: Path, header: list[str], rows: list, target_column: str) -> np.ndarray:
    return np.array([label.strip() for label in _filled_column(path, header, rows, target_column, "target", "label")])


def _filled_column(path: Path, header: list[str], rows: list, column: str, role: str, value: str) -> list[str]:
    """The column's values, as written; a missing column or a blank value is named with its line."""
    if column not in header:
        raise DataError(f"{path}: {role} column '{column}' is missing (columns: {', '.join(header)})")
    index = header.index(column)
    for line, row in rows:
        if not row[index].strip():
            raise DataError(f"{path}: line {line}, column '{column}' has no {value}")
    return [row[index] for _, row in rows]
{%- if cookiecutter.example_task == "text" %}


def _texts(path: Path, header: list[str], rows: list, column: str) -> np.ndarray:
    return np.array(_filled_column(path, header, rows, column, "text", "text"), dtype=object)
{%- else %}


def _numeric_columns(path: Path, header: list[str], rows: list, names: list[str]) -> np.ndarray:
    missing = [name for name in names if name not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(header)})")
    indices = [header.index(name) for name in names]
    matrix = np.empty((len(rows), len(names)))
    for row_number, (line, row) in enumerate(rows):
        for column, (name, index) in enumerate(zip(names, indices, strict=True)):
            matrix[row_number, column] = _number(path, line, name, row[index])
    return matrix


def _number(path: Path, line: int, column: str, text: str) -> float:
    if not text.strip():
        raise DataError(f"{path}: line {line}, column '{column}' is missing a value")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{path}: line {line}, column '{column}' is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise DataError(f"{path}: line {line}, column '{column}' is not finite: {text!r}")
    return value
{%- endif %}


def _check_trainable(dataset: Dataset) -> None:
    classes, counts = np.unique(dataset.labels, return_counts=True)
    if len(classes) < 2:
        raise DataError("training data needs at least two classes")
    if counts.min() < 2:
        rare = classes[counts.argmin()]
        raise DataError(f"class '{rare}' has a single example; every class needs at least two")


def split_dataset(dataset: Dataset, test_size: float, random_state: int) -> Split:
    """A stratified, seeded train/test split: the same rows on every run."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        dataset.features,
        dataset.labels,
        test_size=test_size,
        random_state=random_state,
        stratify=dataset.labels,
    )
    names = dataset.feature_names
    return Split(Dataset(x_train, y_train, names), Dataset(x_test, y_test, names))
