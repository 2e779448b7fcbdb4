"""Render the template the way users do (the cookiecutter API) and run what they would run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
# The text example task, under a name that fits it.
TEXT_ANSWERS = {"example_task": "text", "project_name": "Resume Screener"}


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
def text_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("text"), **TEXT_ANSWERS)


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


def install(project):
    """Install a render as its README says (`make install`), then train it with the Dockerfile's own step."""
    (train_step,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.endswith(" train")]
    train = train_step.removeprefix("RUN ").split()
    for command in (["make", "install"], [str(project / ".venv" / "bin" / train[0]), *train[1:]]):
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return project


@pytest.fixture(scope="session")
def installed_project(render, tmp_path_factory):
    """A default render, installed and trained."""
    return install(render(tmp_path_factory.mktemp("installed")))


@pytest.fixture(scope="session")
def installed_text_project(render, tmp_path_factory):
    """A text render, installed and trained."""
    return install(render(tmp_path_factory.mktemp("installed-text"), **TEXT_ANSWERS))


def pytest_collection_modifyitems(items):
    """Order the slow tests (those that run a generated suite) last, so quick failures show first."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
