"""The example task: how far diabetes progresses in a year, from ten measurements of a patient.

Everything the example decides lives here, and nothing else in the package asks which task it
is: where the data comes from, the estimator's steps, what a request carries (rows of numbers)
and what the answer holds (one number per row). Replace it with your own model here:
README.md, "Bring your own model", shows how.
"""

from .data.data_loader import Dataset, read_training_csv
from .schemas.numbers import NumberRows
from .schemas.values import Values
from .utils.helpers import DataConfig

INPUTS = NumberRows  # one row of numbers per item, by feature name
OUTPUTS = Values  # one number per row
# onnxruntime serves the ONNX copy; it agrees with scikit-learn to 1e-9 (models/model.py checks it).
ONNX_EXPORT = True

# One item as a request carries it, for the README, the load test and the tests: the data's first patient.
EXAMPLE = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]


def load_dataset(config: DataConfig) -> Dataset:
    """scikit-learn's bundled diabetes data (data.csv_path: null), in its original units (age in years,
    bmi, blood pressure, six blood serum measurements), or the CSV file the config names."""
    if config.csv_path is None:
        from sklearn.datasets import load_diabetes

        diabetes = load_diabetes(scaled=False)
        return Dataset(diabetes.data, diabetes.target, list(diabetes.feature_names), "progression")
    return read_training_csv(config, INPUTS, OUTPUTS)


def pipeline_steps() -> dict[str, type]:
    """The Pipeline's steps by name; each one's hyper-parameters come from model.hyperparameters.<name>."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    return {"scale": StandardScaler, "regress": Ridge}
