"""The container's health check, against a live service and against nothing."""

from {{ cookiecutter.package_name }}.healthcheck import (
    check,
)


def test_the_healthcheck_passes_against_a_live_service(make_config, live_port):
    assert check(make_config(server={"port": live_port})) == 0


def test_the_healthcheck_fails_when_nothing_answers(make_config, capsys, dead_port):
    assert check(make_config(server={"port": dead_port})) == 1
    assert f"unhealthy: http://127.0.0.1:{dead_port}/health" in capsys.readouterr().err
