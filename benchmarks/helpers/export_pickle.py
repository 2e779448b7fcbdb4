"""Run in the project's venv: load the project's skops model and pickle the same fitted pipeline.

python export_pickle.py models/model.skops out.pkl   -> prints {"sklearn": "<version>"}
"""

import json
import pickle
import sys
from pathlib import Path

import sklearn
import skops.io


def load_skops(path: str):
    return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))


def main() -> None:
    source, target = sys.argv[1], Path(sys.argv[2])
    target.write_bytes(pickle.dumps(load_skops(source)))
    print(json.dumps({"sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
