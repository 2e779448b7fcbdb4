import csv

import pytest
import yaml

from {{ cookiecutter.package_name }}.cli import (
    main,
)


@pytest.fixture
def config_file(tmp_path, config_path):
    """The project's config, with the artifact redirected into a temporary folder."""
    settings = yaml.safe_load(config_path.read_text())
    settings["model"]["artifact_path"] = str(tmp_path / "model.skops")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def test_train_saves_artifact_and_metadata(config_file, capsys):
    assert main(["--config", str(config_file), "train"]) == 0
    assert (config_file.parent / "model.skops").exists()
    assert (config_file.parent / "model.json").exists()
    assert "accuracy" in capsys.readouterr().out


def test_train_if_missing_keeps_an_existing_model(config_file, capsys):
    main(["--config", str(config_file), "train"])
    before = (config_file.parent / "model.skops").stat().st_mtime_ns
    assert main(["--config", str(config_file), "train", "--if-missing"]) == 0
    assert (config_file.parent / "model.skops").stat().st_mtime_ns == before
    assert "kept" in capsys.readouterr().out
{%- if cookiecutter.example_task == "text" %}


def test_predict_writes_a_prediction_per_row(config_file, tmp_path):
    main(["--config", str(config_file), "train"])
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(
        'id,text\n1,"Registered nurse in intensive care, wound care and medication"\n'
        "2,Backend developer who designed REST APIs and reviewed code\n"
    )
    assert main(["--config", str(config_file), "predict", "--input", str(source), "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.open()))
    assert [row["prediction"] for row in rows] == ["nurse", "software_engineer"]
    assert rows[0]["text"].startswith("Registered nurse")
    assert float(rows[0]["probability_nurse"]) > 0.5
{%- else %}


def test_predict_writes_a_prediction_per_row(config_file, tmp_path):
    main(["--config", str(config_file), "train"])
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("petal_width,sepal_length,sepal_width,petal_length\n0.2,5.1,3.5,1.4\n2.3,6.7,3.0,5.2\n")
    assert main(["--config", str(config_file), "predict", "--input", str(source), "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.open()))
    assert [row["prediction"] for row in rows] == ["setosa", "virginica"]
    assert float(rows[0]["probability_setosa"]) > 0.9
{%- endif %}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["train"], "unknown config key"),
        (["predict", "--input", "in.csv", "--output", "out.csv"], "unknown config key"),
    ],
)
def test_a_bad_config_exits_2_with_the_key(tmp_path, capsys, args, problem):
    path = tmp_path / "config.yaml"
    path.write_text("colour: red\n")
    assert main(["--config", str(path), *args]) == 2
    assert problem in capsys.readouterr().err


def test_predict_without_a_model_exits_2_naming_the_file(config_file, tmp_path, capsys):
    args = ["--config", str(config_file), "predict", "--input", "in.csv", "--output", str(tmp_path / "out.csv")]
    assert main(args) == 2
    assert "model.skops: file does not exist" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_predict_with_a_bad_input_file_exits_2(config_file, tmp_path, capsys):
    main(["--config", str(config_file), "train"])
    source = tmp_path / "in.csv"
{%- if cookiecutter.example_task == "text" %}
    source.write_text("resume\nRegistered nurse\n")
    assert main(["--config", str(config_file), "predict", "--input", str(source), "--output", "out.csv"]) == 2
    assert "text column 'text' is missing" in capsys.readouterr().err
{%- else %}
    source.write_text("sepal_length\n5.1\n")
    assert main(["--config", str(config_file), "predict", "--input", str(source), "--output", "out.csv"]) == 2
    assert "missing column(s) sepal_width" in capsys.readouterr().err
{%- endif %}


def test_a_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "train" in capsys.readouterr().err
