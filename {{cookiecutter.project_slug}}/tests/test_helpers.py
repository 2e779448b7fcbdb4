import datetime
import json
import logging
import secrets

import pytest
import yaml

from {{ cookiecutter.package_name }} import (
    task,
)
from {{ cookiecutter.package_name }}.utils.helpers import (
    ENV_PREFIX,
    LOG_TIME_FORMAT,
    AccessLog,
    ConfigError,
    JsonFormatter,
    load_config,
    secret_key,
    trusted_hosts,
)


def test_the_shipped_config_loads(make_config):
    config = make_config()
    assert config.server.port == 8000
    assert config.model.artifact_path.endswith(".skops")
    assert 0 < config.data.test_size < 1


def test_the_shipped_hyperparameters_are_sections_of_the_tasks_steps(make_config):
    """model.hyperparameters has one section per step of the task's Pipeline, by the step's name."""
    assert set(make_config().model.hyperparameters) <= set(task.pipeline_steps())


def test_environment_overrides_a_key_with_its_yaml_type(make_config):
    config = make_config(env={f"{ENV_PREFIX}SERVER__PORT": "9001", f"{ENV_PREFIX}SERVER__REQUIRE_MODEL": "false"})
    assert config.server.port == 9001
    assert config.server.require_model is False


def test_environment_names_match_keys_whatever_their_case(make_config):
    """e.g. <PACKAGE>__MODEL__HYPERPARAMETERS__<STEP>__<PARAM> sets one hyper-parameter of one step."""
    step, settings = next(iter(make_config().model.hyperparameters.items()))
    parameter = next(iter(settings))
    name = f"{ENV_PREFIX}MODEL__HYPERPARAMETERS__{step.upper()}__{parameter.upper()}"
    assert make_config(env={name: "0.25"}).model.hyperparameters[step][parameter] == 0.25


def test_environment_without_the_prefix_is_ignored(make_config):
    assert make_config(env={"SERVER__PORT": "1"}).server.port == 8000


def test_load_config_reads_the_process_environment_by_default(monkeypatch, config_path):
    monkeypatch.setenv(f"{ENV_PREFIX}LOGGING__LEVEL", "DEBUG")
    assert load_config(config_path).logging.level == "DEBUG"


def test_a_null_csv_path_means_the_tasks_own_data(make_config):
    """The config accepts it for any task; a task without bundled data refuses it when it loads (test_task.py)."""
    assert make_config(data={"csv_path": None}).data.csv_path is None


@pytest.mark.parametrize(
    ("env", "overrides", "named"),
    [
        ({f"{ENV_PREFIX}SERVER__PROT": "1"}, {}, "SERVER__PROT names no config key"),
        ({f"{ENV_PREFIX}MODEL__HYPERPARAMETERS__NO_SUCH_STEP__C": "1"}, {}, "NO_SUCH_STEP__C names no config key"),
        ({f"{ENV_PREFIX}SERVER__PORT": "[unclosed"}, {}, "SERVER__PORT is not a valid YAML value"),
        ({f"{ENV_PREFIX}SERVER__PORT": "eighty"}, {}, "'server.port' must be of type int"),
        ({}, {"server": {"port": True}}, "'server.port' must be of type int"),
        ({}, {"server": {"port": 70000}}, "'server.port' must be between"),
        ({}, {"server": {"colour": "red"}}, "unknown config key 'server.colour'"),
        ({}, {"server": {"trusted_hosts": ["api.example.com", "10.0.0.0/33"]}}, "'server.trusted_hosts[1]' must be"),
        ({}, {"server": {"trusted_hosts": ["fd00::/8"]}}, "'server.trusted_hosts[0]' must be a host name, or an IPv4"),
        ({}, {"server": "everywhere"}, "'server' must be a mapping"),
        ({}, {"data": {"source": "csv"}}, "unknown config key 'data.source'"),
        ({}, {"data": {"csv_path": ""}}, "'data.csv_path' must name a CSV file, or be null"),
        ({}, {"data": {"test_size": 1.5}}, "'data.test_size' must be between 0 and 1"),
        ({}, {"data": {"feature_columns": ["a", 2]}}, "'data.feature_columns[1]' must be of type str"),
        ({}, {"data": {"target_column": 2}}, "'data.target_column' must be of type str"),
        ({}, {"model": {"trusted_types": "numpy.float64"}}, "'model.trusted_types' must be of type list"),
        ({}, {"model": {"artifact_path": "model.pkl"}}, "'model.artifact_path' must end in .skops"),
        ({}, {"model": {"runtime": "torch"}}, "'model.runtime' must be 'onnx' or 'sklearn'"),
        ({}, {"model": {"hyperparameters": ["C"]}}, "'model.hyperparameters' must be of type dict"),
        ({}, {"inputs": "many"}, "'inputs' must be of type dict"),
        ({}, {"logging": {"level": "LOUD"}}, "'logging.level' must be one of"),
        ({}, {"environment": "staging"}, "'environment' must be"),
    ],
)
def test_a_bad_setting_is_refused_by_name(make_config, env, overrides, named):
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        make_config(env=env, **overrides)


def test_a_missing_key_is_named(tmp_path, config_path):
    path = tmp_path / "config.yaml"
    path.write_text(config_path.read_text().replace("  max_batch_rows: 1000\n", ""))
    with pytest.raises(ConfigError, match=r"'server.max_batch_rows' is required"):
        load_config(path, env={})


def test_the_inputs_section_is_optional(tmp_path, config_path):
    """Only an input kind with settings (a text's length limit) needs it; the kind checks them when the model loads."""
    settings = yaml.safe_load(config_path.read_text())
    settings.pop("inputs", None)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(settings))
    assert load_config(path, env={}).inputs == {}


def test_input_settings_reach_the_config_as_written(make_config):
    assert make_config(inputs={"anything": [1, 2]}).inputs["anything"] == [1, 2]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("server: [", "not valid YAML"), ("- a list\n", "must hold a mapping")],
)
def test_an_unreadable_file_is_named(tmp_path, text, problem):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_config(path, env={})


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere.yaml does not exist"):
        load_config(tmp_path / "nowhere.yaml")


def test_secret_key_comes_from_the_environment(make_config):
    assert secret_key(make_config(), env={"SECRET_KEY": "s3cret"}) == "s3cret"


def test_development_makes_a_throwaway_secret_key(make_config):
    first, second = secret_key(make_config(), env={}), secret_key(make_config(), env={})
    assert len(first) == 64
    assert first != second


def test_production_refuses_to_start_without_secret_key(make_config):
    with pytest.raises(ConfigError, match=r"SECRET_KEY must be set"):
        secret_key(make_config(environment="production"), env={})


@pytest.mark.parametrize(
    "key",
    ["a", " ", "change-me", "change-me" * 5, "a" * 64, "0123456789" * 4, "my-own-secret-key-for-prod-ABCDEFGH-1234"],
    ids=["one-letter", "space", "readme-example", "example-repeated", "one-letter-repeated", "digits", "secret-phrase"],
)
def test_production_refuses_a_weak_or_example_secret_key(make_config, key):
    with pytest.raises(ConfigError, match=r"SECRET_KEY is too weak for production: use 32 or more random characters"):
        secret_key(make_config(environment="production"), env={"SECRET_KEY": key})


def test_production_takes_a_random_secret_key_and_development_any(make_config):
    strong = secrets.token_hex(32)
    assert secret_key(make_config(environment="production"), env={"SECRET_KEY": strong}) == strong
    assert secret_key(make_config(), env={"SECRET_KEY": "dev"}) == "dev"


def test_production_refuses_to_start_without_trusted_hosts(make_config):
    with pytest.raises(ConfigError, match=r"'server.trusted_hosts' must list the service's host names"):
        trusted_hosts(make_config(environment="production"))
    assert trusted_hosts(make_config()) is None  # development: any host
    listed = make_config(environment="production", server={"trusted_hosts": ["api.example.com"]})
    assert trusted_hosts(listed) == ["api.example.com"]


def test_log_records_are_json_lines_with_their_extras():
    record = logging.makeLogRecord({"msg": "request", "levelname": "INFO", "name": "api", "status": 200})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "request"
    assert entry["status"] == 200
    assert entry["level"] == "INFO"


def test_the_access_log_writes_one_json_line_when_its_logger_is_at_info(capsys):
    logger = logging.getLogger("access-log-test")
    access_log = AccessLog(logger)
    logger.setLevel(logging.WARNING)
    access_log.write(path="/quiet")
    logger.setLevel(logging.INFO)
    access_log.write(path="/predict", status=200)
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert datetime.datetime.strptime(entry.pop("time"), LOG_TIME_FORMAT).tzinfo is not None
    assert entry == {
        "level": "INFO",
        "logger": "access-log-test",
        "message": "request",
        "path": "/predict",
        "status": 200,
    }


def test_log_records_carry_their_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        record = logging.makeLogRecord({"msg": "failed", "exc_info": (type(error), error, error.__traceback__)})
    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(record))["exception"]
