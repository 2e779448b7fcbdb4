"""Load the training data, prove it is usable, and split it the same way every time.

The task (`task.py`) says where its data comes from and which kinds of input and target it holds;
this module reads CSV files for any of them. scikit-learn is imported only by the functions that
train, so the server never pays for it.

A bad data file must fail here, naming the line and column, rather than deep inside
scikit-learn with a message about arrays.
"""

import csv
import dataclasses
import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..utils.helpers import DataConfig

Rows = list[tuple[int, list[str]]]  # (line number, fields) for each data row of a CSV


class DataError(ValueError):
    """The data cannot be used for training or prediction."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    features: np.ndarray
    targets: np.ndarray
    feature_names: list[str]
    target_name: str

    def fingerprint(self) -> str:
        """A sha256 of the exact values trained on, recorded in the model's metadata."""
        digest = hashlib.sha256()
        digest.update("\0".join(self.feature_names).encode())
        if self.features.dtype == object:  # texts
            digest.update("\0".join(map(str, self.features.ravel())).encode())
        else:
            digest.update(np.ascontiguousarray(self.features, dtype=np.float64).tobytes())
        digest.update("\0".join(map(str, self.targets)).encode())
        return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Split:
    train: Dataset
    test: Dataset


class ColumnReader(Protocol):
    """What reads a CSV's columns into an array: the task's input kind (features) or output kind (targets)."""

    @staticmethod
    def read_columns(path: Path, header: list[str], rows: Rows, names: list[str]) -> np.ndarray: ...


class TargetReader(Protocol):
    @staticmethod
    def read_targets(path: Path, header: list[str], rows: Rows, column: str) -> np.ndarray: ...

    @staticmethod
    def check_trainable(targets: np.ndarray) -> None: ...


def read_training_csv(config: DataConfig, inputs: ColumnReader, outputs: TargetReader) -> Dataset:
    """Features and targets from the CSV at data.csv_path: the target column, and the feature columns
    (data.feature_columns, or every other column)."""
    path = Path(str(config.csv_path))
    header, rows = read_rows(path)
    targets = outputs.read_targets(path, header, rows, config.target_column)
    names = list(config.feature_columns or [name for name in header if name != config.target_column])
    dataset = Dataset(inputs.read_columns(path, header, rows, names), targets, names, config.target_column)
    outputs.check_trainable(dataset.targets)
    return dataset


def read_rows(path: Path) -> tuple[list[str], Rows]:
    """A CSV's header and its data rows, each with its line number; every row as wide as the header."""
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


def filled_column(path: Path, header: list[str], rows: Rows, column: str, role: str, value: str) -> list[str]:
    """The column's values, as written; a missing column or a blank value is named with its line."""
    if column not in header:
        raise DataError(f"{path}: {role} column '{column}' is missing (columns: {', '.join(header)})")
    index = header.index(column)
    for line, row in rows:
        if not row[index].strip():
            raise DataError(f"{path}: line {line}, column '{column}' has no {value}")
    return [row[index] for _, row in rows]


def numeric_columns(path: Path, header: list[str], rows: Rows, names: Sequence[str]) -> np.ndarray:
    """The named columns as a float matrix; every value must be a finite number."""
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


def split_dataset(dataset: Dataset, test_size: float, random_state: int, *, stratify: bool) -> Split:
    """A seeded train/test split, the same rows on every run; stratified (each class in proportion) for classes."""
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        dataset.features,
        dataset.targets,
        test_size=test_size,
        random_state=random_state,
        stratify=dataset.targets if stratify else None,
    )
    names, target = dataset.feature_names, dataset.target_name
    return Split(Dataset(x_train, y_train, names, target), Dataset(x_test, y_test, names, target))
