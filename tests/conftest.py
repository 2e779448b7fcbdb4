"""Render the template the way users do (the cookiecutter API) and run what they would run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def render():
    """render(output_dir, **answers) -> the rendered project's folder (non-interactive, like --no-input)."""

    def bake(output_dir, **answers):
        return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir)))

    return bake


@pytest.fixture(scope="session")
def default_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def run_in(tmp_path_factory):
    """run_in(project, tool, *arguments) -> the finished process; the caller asserts on it.

    The tool is a console script installed beside this Python (pytest, ruff, hadolint, ...).
    """
    coverage_file = tmp_path_factory.mktemp("coverage") / ".coverage"

    def run(project, *command, timeout=600):
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
        # Leave the render as it was made: no caches or coverage data written into it.
        env.update(RUFF_NO_CACHE="true", PYTHONDONTWRITEBYTECODE="1", COVERAGE_FILE=str(coverage_file))
        return subprocess.run(
            [str(Path(sys.executable).parent / command[0]), *command[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def assert_clean_and_green(run_in):
    """assert_clean_and_green(project): ruff-clean, and its own suite passes with its coverage gate."""

    def check(project):
        for command in (
            ["ruff", "check", "."],
            ["ruff", "format", "--check", "."],
            ["pytest", "-q", "-p", "no:cacheprovider"],
        ):
            result = run_in(project, *command)
            assert result.returncode == 0, f"{command}: {result.stdout[-5000:]}{result.stderr[-2000:]}"
        assert "Required test coverage of 90% reached" in result.stdout

    return check


@pytest.fixture(scope="session")
def installed_project(render, tmp_path_factory):
    """A default render, installed as its README says (`make install`), then trained by the Dockerfile's own step."""
    project = render(tmp_path_factory.mktemp("installed"))
    (train_step,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.endswith(" train")]
    train = train_step.removeprefix("RUN ").split()
    for command in (["make", "install"], [str(project / ".venv" / "bin" / train[0]), *train[1:]]):
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return project


def pytest_collection_modifyitems(items):
    """Order the slow tests (those that run a generated suite) last, so quick failures show first.

    Under pytest-xdist (`--dist loadgroup`), the tests of the one installed render run in one worker,
    which installs it once, while the other workers take the rest.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
    for item in items:
        if "installed_project" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("installed_project"))
