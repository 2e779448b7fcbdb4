"""The command line for any task: train, predict a CSV, and the errors that exit 2 naming their cause."""

import csv
import json
import shutil
import socket
import subprocess

import pytest
import yaml

from {{ cookiecutter.package_name }} import (
    cli as cli_module,
)
from {{ cookiecutter.package_name }}.api.app import (
    create_app,
)
from {{ cookiecutter.package_name }}.cli import (
    main,
)
from {{ cookiecutter.package_name }}.models.model import (
    load_model,
)


@pytest.fixture
def config_file(tmp_path, config_path):
    """The project's config, with the artifact redirected into a temporary folder."""
    settings = yaml.safe_load(config_path.read_text())
    settings["model"]["artifact_path"] = str(tmp_path / "model.skops")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture
def cli(config_file):
    """cli(*args) runs the command line with the temporary config; its exit status."""

    def run(*args):
        return main(["--config", str(config_file), *map(str, args)])

    return run


@pytest.fixture
def trained(cli, make_config, config_file):
    """The model `train` saved, loaded as `predict` loads it."""
    assert cli("train") == 0
    config = make_config(model={"artifact_path": str(config_file.parent / "model.skops")})
    return load_model(config.model.artifact_path, config.model.trusted_types, config.model.runtime, config.inputs)


def test_train_saves_the_artifacts_and_reports_the_metrics(cli, config_file, capsys):
    assert cli("train") == 0
    metadata = json.loads((config_file.parent / "model.json").read_text())
    assert (config_file.parent / "model.skops").exists()
    copy = metadata["onnx_sha256"] is not None  # kept when skl2onnx reproduces the Pipeline (test_model.py)
    assert (config_file.parent / "model.onnx").exists() is copy
    out = capsys.readouterr().out
    assert ("with ONNX copy" if copy else "without ONNX copy") in out
    assert all(name in out for name in metadata["metrics"])


def git(folder, *args):
    """git in `folder`, as a fresh machine has it (no user configured), or the test stops with its message."""
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    command = [shutil.which("git") or "git", *identity, *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)  # noqa: S603 -- git
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_train_in_a_git_repository_records_its_commit_and_changes_and_model_shows_them(
    cli, config_file, tmp_path, monkeypatch, make_config
):
    (tmp_path / "code.py").write_text("print('trained from here')\n")
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "code.py")
    git(tmp_path, "commit", "--quiet", "-m", "the code")
    monkeypatch.setattr(cli_module, "CODE", tmp_path)  # as if the package lived in that repository
    assert cli("train") == 0
    metadata = json.loads((config_file.parent / "model.json").read_text())
    assert (metadata["git_commit"], metadata["git_dirty"]) == (git(tmp_path, "rev-parse", "HEAD"), False)
    (tmp_path / "code.py").write_text("print('changed, not committed')\n")
    assert cli("train") == 0
    assert json.loads((config_file.parent / "model.json").read_text())["git_dirty"] is True
    app = create_app(make_config(model={"artifact_path": str(config_file.parent / "model.skops")}))
    shown = app.test_client().get("/model").get_json()
    assert (shown["git_commit"], shown["git_dirty"]) == (metadata["git_commit"], True)
    assert shown["config_sha256"] == metadata["config_sha256"]


def test_train_outside_git_records_no_commit_and_the_settings_hash_follows_the_settings(
    cli, config_file, tmp_path, monkeypatch
):
    monkeypatch.setattr(cli_module, "CODE", tmp_path)  # no repository here
    assert cli("train") == 0
    first = json.loads((config_file.parent / "model.json").read_text())
    assert (first["git_commit"], first["git_dirty"]) == (None, None)
    assert cli("train") == 0
    assert json.loads((config_file.parent / "model.json").read_text())["config_sha256"] == first["config_sha256"]
    settings = yaml.safe_load(config_file.read_text())
    settings["data"]["random_state"] += 1
    config_file.write_text(yaml.safe_dump(settings))
    assert cli("train") == 0
    assert json.loads((config_file.parent / "model.json").read_text())["config_sha256"] != first["config_sha256"]


def test_train_if_missing_keeps_an_existing_model(cli, config_file, capsys):
    cli("train")
    before = (config_file.parent / "model.skops").stat().st_mtime_ns
    assert cli("train", "--if-missing") == 0
    assert (config_file.parent / "model.skops").stat().st_mtime_ns == before
    assert "kept" in capsys.readouterr().out


def test_predict_writes_each_row_with_the_models_answer(cli, trained, example, tmp_path, capsys):
    """The input's columns may come in any order, among others; the output keeps them as they were, then the answer."""
    features = trained.inputs.validate([example, example], 2)
    header, cells = trained.inputs.csv_header(), trained.inputs.csv_cells(features)
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [[index, *reversed(row)] for index, row in enumerate(cells)]
    with source.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows([["id", *reversed(header)], *rows])
    assert cli("predict", "--input", source, "--output", target) == 0
    answers = trained.outputs.csv_cells(trained.predict(features))
    with target.open(newline="", encoding="utf-8") as file:
        written = list(csv.reader(file))
    assert written[0] == ["id", *reversed(header), *trained.outputs.csv_header()]
    assert written[1:] == [[*map(str, given), *map(str, answer)] for given, answer in zip(rows, answers, strict=True)]
    assert "wrote 2 predictions" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["train"], ["predict", "--input", "in.csv", "--output", "out.csv"]])
def test_a_bad_config_exits_2_with_the_key(tmp_path, capsys, args):
    path = tmp_path / "config.yaml"
    path.write_text("colour: red\n")
    assert main(["--config", str(path), *args]) == 2
    assert "error: unknown config key 'colour'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("data", {"csv_path": "absent.csv"}, "absent.csv: file does not exist"),
        ("model", {"hyperparameters": {"no_such_step": {}}}, "unknown step(s) no_such_step"),
    ],
)
def test_train_with_unusable_settings_exits_2_naming_the_problem(tmp_path, config_file, capsys, key, value, problem):
    settings = yaml.safe_load(config_file.read_text())
    settings[key].update(value)
    config_file.write_text(yaml.safe_dump(settings))
    assert main(["--config", str(config_file), "train"]) == 2
    assert problem in capsys.readouterr().err
    assert not (tmp_path / "model.skops").exists()


def test_predict_without_a_model_exits_2_naming_the_file(cli, tmp_path, capsys):
    assert cli("predict", "--input", "in.csv", "--output", tmp_path / "out.csv") == 2
    error = capsys.readouterr().err
    assert "model.skops: file does not exist" in error
    assert "hint: `make train` (python -m {{ cookiecutter.package_name }} train)" in error
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("command", ["dev", "serve"])
def test_a_server_on_a_taken_port_exits_2_naming_the_port_setting(trained, config_file, capsys, command):
    settings = yaml.safe_load(config_file.read_text())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings["server"].update(host="127.0.0.1", port=taken.getsockname()[1])
        config_file.write_text(yaml.safe_dump(settings))
        assert main(["--config", str(config_file), command]) == 2
    error = capsys.readouterr().err
    assert "Address already in use" in error
    assert "hint: another process has the port: stop it, or choose another, e.g. " in error
    assert "__SERVER__PORT=8001" in error


@pytest.mark.parametrize(
    ("text", "problem"),
    [(None, "in.csv: file does not exist"), ("", "in.csv: file is empty")],
    ids=["absent", "empty"],
)
def test_predict_with_an_unreadable_input_file_exits_2_naming_it(cli, trained, tmp_path, capsys, text, problem):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    if text is not None:
        source.write_text(text)
    assert cli("predict", "--input", source, "--output", target) == 2
    assert problem in capsys.readouterr().err
    assert not target.exists()


def test_predict_without_the_models_columns_exits_2_naming_them(cli, trained, tmp_path, capsys):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("unrelated\n1\n")
    assert cli("predict", "--input", source, "--output", target) == 2
    err = capsys.readouterr().err
    assert "missing" in err
    assert all(name in err for name in trained.inputs.feature_names)
    assert not target.exists()


def test_predict_into_a_folder_that_does_not_exist_exits_2(cli, trained, example, tmp_path, capsys):
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as file:
        rows = trained.inputs.csv_cells(trained.inputs.validate([example], 1))
        csv.writer(file).writerows([trained.inputs.csv_header(), *rows])
    assert cli("predict", "--input", source, "--output", tmp_path / "nowhere" / "out.csv") == 2
    assert "No such file or directory" in capsys.readouterr().err


def test_a_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "train" in capsys.readouterr().err
