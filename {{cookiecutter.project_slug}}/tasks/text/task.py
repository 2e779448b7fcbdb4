"""The example task: which of six roles a resume snippet is written for, from its words.

Everything the example decides lives here, and nothing else in the package asks which task it
is: where the data comes from (data/resumes.csv, data/README.md says how it was made), the
estimator's steps, what a request carries (texts) and what the answer holds (a class with its
probabilities). Replace it with your own model here: README.md, "Bring your own model", shows how.
"""

from .data.data_loader import DataError, Dataset, read_training_csv
from .schemas.classes import Classes
from .schemas.texts import Texts
from .utils.helpers import DataConfig

INPUTS = Texts  # one text per item
OUTPUTS = Classes  # a class label and a probability per class
# No ONNX copy: skl2onnx's TfidfVectorizer needs the en_US.UTF-8 locale, and tokenizes and scores
# (in float32) differently enough that its probabilities differed from scikit-learn's by up to
# 0.014 on the sample data, so scikit-learn serves it.
ONNX_EXPORT = False

# One item as a request carries it, for the README, the load test and the tests: a nurse.
EXAMPLE = "Registered nurse with six years in intensive care; administered medication and trained new staff."


def load_dataset(config: DataConfig) -> Dataset:
    """The CSV file the config names: one text column (data.feature_columns) and a label per row."""
    if config.csv_path is None:
        raise DataError("config key 'data.csv_path' must name a CSV of texts and labels: this task has no bundled data")
    return read_training_csv(config, INPUTS, OUTPUTS)


def pipeline_steps() -> dict[str, type]:
    """The Pipeline's steps by name; each one's hyper-parameters come from model.hyperparameters.<name>."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    return {"tfidf": TfidfVectorizer, "classify": LogisticRegression}
