"""Run in the project's venv: time `model.predict` on a batch in this one process, the batch floor.

    python time_predict.py models/model.skops rows.json SECONDS
    -> prints {"rows", "repetitions", "median_seconds", "best_seconds"}

The rows are a NumPy float array built once, outside the timing: only the pipeline's predict is timed.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import skops.io

WARM_UP = 20
MIN_REPETITIONS = 50


def load_skops(path: str):
    return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))


def timings(model, features: np.ndarray, seconds: float) -> list[float]:
    for _ in range(WARM_UP):
        model.predict(features)
    measured: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(measured) < MIN_REPETITIONS or time.perf_counter() < deadline:
        start = time.perf_counter()
        model.predict(features)
        measured.append(time.perf_counter() - start)
    return measured


def main() -> None:
    model_path, rows_path, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    features = np.asarray(json.loads(rows_path.read_text()), dtype=float)
    measured = timings(load_skops(model_path), features, seconds)
    figures = {
        "rows": len(features),
        "repetitions": len(measured),
        "median_seconds": statistics.median(measured),
        "best_seconds": min(measured),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
