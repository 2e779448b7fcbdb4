"""The default render: exactly the files promised, fully rendered, valid Python, lint-clean, green."""

import re
import subprocess
import tomllib

import pytest

EXPECTED_FILES = {
    ".dockerignore",
    ".github/dependabot.yml",
    ".github/workflows/ci.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "Makefile",
    "gunicorn.conf.py",
    "README.md",
    "config/config.yaml",
    "pyproject.toml",
    "requirements-dev.txt",
    "requirements.txt",
    "src/iris_classifier_service/__init__.py",
    "src/iris_classifier_service/__main__.py",
    "src/iris_classifier_service/cli.py",
    "src/iris_classifier_service/healthcheck.py",
    "src/iris_classifier_service/loadtest.py",
    "src/iris_classifier_service/api/__init__.py",
    "src/iris_classifier_service/api/app.py",
    "src/iris_classifier_service/api/inference_protocol.py",
    "src/iris_classifier_service/api/metrics.py",
    "src/iris_classifier_service/api/openapi.py",
    "src/iris_classifier_service/api/validation.py",
    "src/iris_classifier_service/api/web.py",
    "src/iris_classifier_service/api/templates/base.html",
    "src/iris_classifier_service/api/templates/model_card.html",
    "src/iris_classifier_service/api/static/web.css",
    "src/iris_classifier_service/data/__init__.py",
    "src/iris_classifier_service/data/data_loader.py",
    "src/iris_classifier_service/models/__init__.py",
    "src/iris_classifier_service/models/classifier.py",
    "src/iris_classifier_service/utils/__init__.py",
    "src/iris_classifier_service/utils/helpers.py",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_classifier.py",
    "tests/test_cli.py",
    "tests/test_data_loader.py",
    "tests/test_helpers.py",
    "tests/test_inference_protocol.py",
    "tests/test_metrics.py",
    "tests/test_openapi.py",
    "tests/test_serving.py",
    "tests/test_web.py",
}
# A Jinja tag naming cookiecutter, or a raw block (which guards GitHub's own ${{ }} expressions).
MARKER = re.compile(r"(\{\{|\{%)[^}]*cookiecutter|\{%-?\s*(end)?raw\b")


def project_files(project):
    return sorted(path for path in project.rglob("*") if path.is_file())


def test_the_default_render_has_exactly_the_expected_files(default_project):
    assert default_project.name == "iris-classifier-service"
    assert {str(path.relative_to(default_project)) for path in project_files(default_project)} == EXPECTED_FILES


def test_no_template_marker_is_left_in_any_name_or_file(default_project):
    leftovers = [
        str(path.relative_to(default_project))
        for path in project_files(default_project)
        if MARKER.search(str(path.relative_to(default_project))) or MARKER.search(path.read_text(encoding="utf-8"))
    ]
    assert leftovers == []


def test_every_python_file_compiles(default_project):
    for path in default_project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_pyproject_carries_the_answers(default_project):
    project = tomllib.loads((default_project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "iris-classifier-service"
    assert project["version"] == "0.1.0"
    assert project["scripts"] == {"iris-classifier-service": "iris_classifier_service.cli:main"}


@pytest.mark.parametrize("command", [["ruff", "check", "."], ["ruff", "format", "--check", "."]], ids=" ".join)
def test_ruff_passes_on_the_render(default_project, run_in, command):
    result = run_in(default_project, *command)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_generated_test_suite_passes_with_its_coverage_gate(default_project, run_in):
    result = run_in(default_project, "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Required test coverage of 90% reached" in result.stdout


def test_git_tracks_every_rendered_file(default_project, tmp_path):
    """The project's .gitignore keeps out venvs, caches and trained models, never source."""
    git_dir = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", f"--work-tree={default_project}", "check-ignore", "--stdin"],
        input="\n".join(sorted(EXPECTED_FILES)),
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == []
