"""Run in MLflow's venv: save the pickled pipeline as an MLflow model directory.

python save_mlflow.py model.pkl out-dir   -> prints {"mlflow": "<version>", "sklearn": "<version>"}
"""

import json
import pickle
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn
import sklearn


def main() -> None:
    source, target = Path(sys.argv[1]), sys.argv[2]
    model = pickle.loads(source.read_bytes())  # noqa: S301 -- the benchmark's own pickle, written moments ago
    # Naming the requirement skips MLflow's dependency inference (a slow subprocess); serving is --env-manager local.
    mlflow.sklearn.save_model(model, target, pip_requirements=[f"scikit-learn=={sklearn.__version__}"])
    print(json.dumps({"mlflow": mlflow.__version__, "sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
