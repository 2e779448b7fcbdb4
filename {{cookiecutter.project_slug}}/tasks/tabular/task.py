"""The example task: which species of iris a flower is, from four measurements of it.

Everything the example decides lives here, and nothing else in the package asks which task it
is: where the data comes from, the estimator's steps, what a request carries (rows of numbers)
and what the answer holds (a class with its probabilities). Replace it with your own model here:
README.md, "Bring your own model", shows how.
"""

from .data.data_loader import Dataset, read_training_csv
from .schemas.classes import Classes
from .schemas.numbers import NumberRows
from .utils.helpers import DataConfig

INPUTS = NumberRows  # one row of numbers per item, by feature name
OUTPUTS = Classes  # a class label and a probability per class
# onnxruntime serves the ONNX copy; it agrees with scikit-learn to 1e-9 (models/model.py checks it).
ONNX_EXPORT = True

# One item as a request carries it, for the README, the load test and the tests: a setosa.
EXAMPLE = [5.1, 3.5, 1.4, 0.2]

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load_dataset(config: DataConfig) -> Dataset:
    """scikit-learn's bundled iris data (data.csv_path: null), or the CSV file the config names."""
    if config.csv_path is None:
        from sklearn.datasets import load_iris

        iris = load_iris()
        return Dataset(iris.data, iris.target_names[iris.target].astype(str), list(IRIS_FEATURES), "species")
    return read_training_csv(config, INPUTS, OUTPUTS)


def pipeline_steps() -> dict[str, type]:
    """The Pipeline's steps by name; each one's hyper-parameters come from model.hyperparameters.<name>."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return {"scale": StandardScaler, "classify": LogisticRegression}
