"""The command line: train, predict on a CSV, or serve (`python -m <package> --help`).

Each command is a small function over the same modules the API uses, so what the CLI
trains is exactly what the service loads.
"""

import argparse
import csv
import sys
from collections.abc import Sequence
from pathlib import Path
{%- if cookiecutter.example_task == "text" %}

from .data.data_loader import DataError, load_dataset, read_text_csv, split_dataset
{%- else %}

from .data.data_loader import DataError, load_dataset, read_feature_csv, split_dataset
{%- endif %}
from .models.classifier import (
    ModelError,
    build_pipeline,
    describe,
    evaluate,
{%- if cookiecutter.example_task != "text" %}
    export_onnx,
{%- endif %}
    load_model,
    predict,
    save_model,
    train,
)
from .utils.helpers import DEFAULT_CONFIG_PATH, Config, ConfigError, load_config, setup_logging


def train_command(config: Config, args: argparse.Namespace) -> None:
    """Train on the configured data, score on the held-out split, save artifact and metadata."""
    if args.if_missing and Path(config.model.artifact_path).exists():
        print(f"kept {config.model.artifact_path}: it exists (train without --if-missing to replace it)")
        return
    split = split_dataset(load_dataset(config.data), config.data.test_size, config.data.random_state)
    estimator = train(build_pipeline(config.model.hyperparameters), split.train)
    metadata = describe(
        estimator,
        name=config.model.name,
        version=config.model.version,
        train_data=split.train,
        metrics=evaluate(estimator, split.test),
    )
{%- if cookiecutter.example_task == "text" %}
    # No ONNX copy: skl2onnx's TF-IDF does not reproduce scikit-learn's probabilities (classifier.py says why).
    saved = save_model(estimator, metadata, Path(config.model.artifact_path))
    print(f"saved {config.model.artifact_path}: {saved['metrics']}")
{%- else %}
    onnx = export_onnx(estimator, split.test)
    saved = save_model(estimator, metadata, Path(config.model.artifact_path), onnx)
    print(f"saved {config.model.artifact_path} ({'with' if onnx else 'without'} ONNX export): {saved['metrics']}")
{%- endif %}
{%- if cookiecutter.example_task == "text" %}


def predict_command(config: Config, args: argparse.Namespace) -> None:
    """Predict the text of every row of a CSV; write it back with the prediction and one probability per class."""
    model = load_model(config.model.artifact_path, config.model.trusted_types, config.model.runtime)
    (text_column,) = model.feature_names  # the column the model was trained on
    texts = read_text_csv(args.input, text_column)
    labels, probabilities = predict(model, texts)
{%- else %}


def predict_command(config: Config, args: argparse.Namespace) -> None:
    """Predict every row of a CSV; write its columns plus the prediction and one probability per class."""
    model = load_model(config.model.artifact_path, config.model.trusted_types, config.model.runtime)
    features = read_feature_csv(args.input, model.feature_names)
    labels, probabilities = predict(model, features)
{%- endif %}
    probability_columns = [f"probability_{label}" for label in model.class_labels]
    with args.output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
{%- if cookiecutter.example_task == "text" %}
        writer.writerow([text_column, "prediction", *probability_columns])
        for text, label, scores in zip(texts, labels, probabilities.tolist(), strict=True):
            writer.writerow([text, label, *(round(score, 6) for score in scores)])
{%- else %}
        writer.writerow([*model.feature_names, "prediction", *probability_columns])
        for row, label, scores in zip(features.tolist(), labels, probabilities.tolist(), strict=True):
            writer.writerow([*row, label, *(round(score, 6) for score in scores)])
{%- endif %}
    print(f"wrote {len(labels)} predictions to {args.output}")


def serve_command(config: Config, _args: argparse.Namespace) -> None:
    """Flask's development server, for trying things out; production uses gunicorn."""
    from .api.app import create_app

    app = create_app(config)
    app.extensions["model_slot"].warm_up()
    app.run(host=config.server.host, port=config.server.port)


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
{%- if cookiecutter.example_task == "text" %}
    predict_parser.add_argument("--input", type=Path, required=True, help="CSV with a header and a text column")
{%- else %}
    predict_parser.add_argument("--input", type=Path, required=True, help="CSV with a header naming the features")
{%- endif %}
    predict_parser.add_argument("--output", type=Path, required=True, help="CSV to write")
    predict_parser.set_defaults(run=predict_command)
    commands.add_parser("serve", help=serve_command.__doc__).set_defaults(run=serve_command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config)
        setup_logging(config.logging.level)
        args.run(config, args)
    except (ConfigError, DataError, ModelError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
