"""The command line: train, predict on a CSV, serve in production, or try the service out.

Each command is a small function over the same modules the API uses, so what the CLI
trains is exactly what the service loads.
"""

import argparse
import csv
import errno
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from . import task
from .data.data_loader import DataError, read_rows, split_dataset
from .errors import ApiError
from .models.model import (
    ModelError,
    build_pipeline,
    describe,
    evaluate,
    export_onnx,
    lineage,
    load_model,
    save_model,
    train,
)
from .utils.helpers import (
    DEFAULT_CONFIG_PATH,
    ENV_PREFIX,
    Config,
    ConfigError,
    load_config,
    setup_logging,
    training_settings,
)

log = logging.getLogger(__name__)
# The code a model is trained by: its git commit goes in the model's lineage.
CODE = Path(__file__).parent


def train_command(config: Config, args: argparse.Namespace) -> None:
    """Train on the configured data, score on the held-out split, save artifact and metadata."""
    if args.if_missing and Path(config.model.artifact_path).exists():
        print(f"kept {config.model.artifact_path}: it exists (train without --if-missing to replace it)")
        return
    data = config.data
    split = split_dataset(task.load_dataset(data), data.test_size, data.random_state, stratify=task.OUTPUTS.stratify)
    estimator = train(build_pipeline(config.model.hyperparameters), split.train)
    metadata = describe(
        estimator,
        name=config.model.name,
        version=config.model.version,
        train_data=split.train,
        metrics=evaluate(estimator, split.test),
        lineage=lineage(training_settings(config), CODE),
    )
    onnx = export_onnx(estimator, split.test)
    saved = save_model(estimator, metadata, Path(config.model.artifact_path), onnx)
    print(f"saved {config.model.artifact_path} ({'with' if onnx else 'without'} ONNX copy): {saved['metrics']}")


def predict_command(config: Config, args: argparse.Namespace) -> None:
    """Predict every row of a CSV; write the row as it was (every column, in its order: an id column stays
    beside its answer), then the model's answer for it."""
    model = load_model(config.model.artifact_path, config.model.trusted_types, config.model.runtime, config.inputs)
    header, rows = read_rows(args.input)
    prediction = model.predict(model.inputs.read_columns(args.input, header, rows, model.inputs.feature_names))
    with args.output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*header, *model.outputs.csv_header()])
        for (_line, given), answered in zip(rows, model.outputs.csv_cells(prediction), strict=True):
            writer.writerow([*given, *answered])
    print(f"wrote {len(rows)} predictions to {args.output}")


def serve_command(config: Config, _args: argparse.Namespace) -> None:
    """Serve in production: granian, its workers and timeouts from config (what the image runs)."""
    from .server import serve

    serve(config)


def dev_command(config: Config, _args: argparse.Namespace) -> None:
    """Flask's development server, one process, for trying things out; never in production."""
    from werkzeug.serving import run_simple

    from .api.app import create_app

    app = create_app(config)
    app.extensions["model_slot"].warm_up()
    # The app writes one JSON line per request: Werkzeug's own request lines and coloured banner would repeat it.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    host, port = config.server.host, config.server.port
    with socket.socket() as probe:  # a taken port is our error (with its hint), not Werkzeug's exit 1
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    log.warning("development server, never for production", extra={"url": f"http://{host}:{port}"})
    run_simple(host, port, app)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="{{ cookiecutter.package_name }}",
        description=__doc__.splitlines()[0],
    )
    root.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="settings file (%(default)s)")
    commands = root.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train", help=train_command.__doc__)
    train_parser.add_argument("--if-missing", action="store_true", help="only when no artifact exists yet")
    train_parser.set_defaults(run=train_command)
    predict_parser = commands.add_parser("predict", help=predict_command.__doc__)
    predict_parser.add_argument("--input", type=Path, required=True, help="CSV with a header naming the model's inputs")
    predict_parser.add_argument("--output", type=Path, required=True, help="CSV to write")
    predict_parser.set_defaults(run=predict_command)
    commands.add_parser("serve", help=serve_command.__doc__).set_defaults(run=serve_command)
    commands.add_parser("dev", help=dev_command.__doc__).set_defaults(run=dev_command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config)
        setup_logging(config.logging.level)
        args.run(config, args)
    except (ConfigError, DataError, ModelError, ApiError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        if hint := _hint(error, args):
            print(f"hint: {hint}", file=sys.stderr)
        return 2
    return 0


def _hint(error: Exception, args: argparse.Namespace) -> str | None:
    """What usually fixes an error a newcomer meets first."""
    if isinstance(error, ModelError) and args.command != "train":
        return f"`make train` (python -m {__package__} train) writes a new, verified model"
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return f"another process has the port: stop it, or choose another, e.g. {ENV_PREFIX}SERVER__PORT=8001"
    return None
