"""The default render: named after the answers, valid Python, and nothing in it ignored by git.

Its file set, markers, linters and test suite are checked with every other combination in test_options.py.
"""

import subprocess
import tomllib

from .matrix import answers_of, expected_files


def test_the_default_render_is_named_after_the_project(default_project):
    assert default_project.name == "iris-classifier-service"


def test_every_python_file_compiles(default_project):
    for path in default_project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_pyproject_carries_the_answers(default_project):
    project = tomllib.loads((default_project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "iris-classifier-service"
    assert project["version"] == "0.1.0"
    assert project["license"] == "MIT"
    assert project["scripts"] == {"iris-classifier-service": "iris_classifier_service.cli:main"}


def test_git_tracks_every_rendered_file(default_project, tmp_path):
    """The project's .gitignore keeps out venvs, caches and trained models, never source."""
    git_dir = tmp_path / "repo.git"
    subprocess.run(["git", "init", "-q", "--bare", str(git_dir)], check=True)
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", f"--work-tree={default_project}", "check-ignore", "--stdin"],
        input="\n".join(sorted(expected_files(answers_of({})))),
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == []
