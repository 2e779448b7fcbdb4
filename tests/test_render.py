"""Both example tasks' renders: exactly the files promised, fully rendered, valid Python, lint-clean, green,
and nothing left of the task not chosen."""

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
}
# The text task's render (tests/conftest.py: TEXT_ANSWERS): the same files in its own package, plus its data set.
EXPECTED_TEXT_FILES = {path.replace("iris_classifier_service", "resume_screener") for path in EXPECTED_FILES} | {
    "data/README.md",
    "data/resumes.csv",
}
RENDERS = {"default": EXPECTED_FILES, "text": EXPECTED_TEXT_FILES}
# Words that belong to one task only: a render of the other task must not contain them (case-insensitive).
OTHER_TASKS_WORDS = {
    "default": re.compile(r"\b(?:resumes?|max_text_chars|text_column|texts_from_payload|nurse)\b", re.IGNORECASE),
    "text": re.compile(r"\b(?:iris|setosa|versicolor|virginica|sepal\w*|petal\w*|feature_columns)\b", re.IGNORECASE),
}
# A Jinja tag naming cookiecutter, or a raw block (which guards GitHub's own ${{ }} expressions).
MARKER = re.compile(r"(\{\{|\{%)[^}]*cookiecutter|\{%-?\s*(end)?raw\b")


def project_files(project):
    return sorted(path for path in project.rglob("*") if path.is_file())


@pytest.fixture(params=list(RENDERS))
def render_name(request):
    return request.param


@pytest.fixture
def project(render_name, request):
    """The session's render of one example task: the default (tabular) or the text one."""
    return request.getfixturevalue(f"{render_name}_project")


def test_each_render_has_exactly_the_expected_files(project, render_name):
    assert {str(path.relative_to(project)) for path in project_files(project)} == RENDERS[render_name]


def test_no_template_marker_is_left_in_any_name_or_file(project):
    leftovers = [
        str(path.relative_to(project))
        for path in project_files(project)
        if MARKER.search(str(path.relative_to(project))) or MARKER.search(path.read_text(encoding="utf-8"))
    ]
    assert leftovers == []


def test_nothing_of_the_other_task_is_left(project, render_name):
    mentions = {
        str(path.relative_to(project)): sorted(set(OTHER_TASKS_WORDS[render_name].findall(path.read_text("utf-8"))))
        for path in project_files(project)
    }
    assert {path: words for path, words in mentions.items() if words} == {}


def test_every_python_file_compiles(project):
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_the_default_render_is_named_by_the_default_answers(default_project):
    assert default_project.name == "iris-classifier-service"


def test_pyproject_carries_the_answers(default_project):
    project = tomllib.loads((default_project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "iris-classifier-service"
    assert project["version"] == "0.1.0"
    assert project["scripts"] == {"iris-classifier-service": "iris_classifier_service.cli:main"}


@pytest.mark.parametrize("command", [["ruff", "check", "."], ["ruff", "format", "--check", "."]], ids=" ".join)
def test_ruff_passes_on_the_render(project, run_in, command):
    result = run_in(project, *command)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_generated_test_suite_passes_with_its_coverage_gate(project, run_in):
    result = run_in(project, "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Required test coverage of 90% reached" in result.stdout


def test_git_tracks_every_rendered_file(project, render_name, tmp_path):
    """The project's .gitignore keeps out venvs, caches and trained models, never source."""
    git_dir = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", f"--work-tree={project}", "check-ignore", "--stdin"],
        input="\n".join(sorted(RENDERS[render_name])),
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == []
