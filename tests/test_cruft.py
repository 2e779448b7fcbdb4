"""Projects take template updates: made with `cruft create` from a clone at commit A, they see commit B
as an update (`cruft check`), take it cleanly (`cruft update`) and still pass their own suite."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .matrix import TEMPLATE

GIT_USER = ["-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
CHANGED_SETTING = "  graceful_timeout_seconds: 10\n"


def git(folder, *arguments):
    return subprocess.run(["git", *GIT_USER, *arguments], cwd=folder, check=True, capture_output=True, text=True)


def cruft(folder, *arguments, answers=None):
    """cruft in `folder`; `answers`: what a person types at its prompts, one per line."""
    command = [str(Path(sys.executable).parent / "cruft"), *arguments]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300, input=answers)


@pytest.fixture
def template_repo(tmp_path):
    """A git repository of the template as it is in this working tree (tracked and new files), at commit A."""
    listed = git(TEMPLATE, "ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout.split("\0")
    repo = tmp_path / "template"
    for name in filter(None, listed):
        if (TEMPLATE / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, repo / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "A")
    return repo


@pytest.mark.slow
def test_a_project_sees_and_takes_a_template_update_and_stays_green(template_repo, tmp_path, assert_clean_and_green):
    created = cruft(tmp_path, "create", str(template_repo), "--no-input", "--output-dir", str(tmp_path / "out"))
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / "out" / "iris-classifier-service"
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Made from the template at A")
    assert cruft(project, "check").returncode == 0

    config = template_repo / "{{cookiecutter.project_slug}}" / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert CHANGED_SETTING in text
    config.write_text(text.replace(CHANGED_SETTING, "  graceful_timeout_seconds: 25\n"), encoding="utf-8")
    git(template_repo, "commit", "-q", "-am", "B: longer grace")

    outdated = cruft(project, "check")
    assert outdated.returncode != 0
    assert "out of date" in outdated.stdout + outdated.stderr
    updated = cruft(project, "update", answers="y\n")  # as a person runs it: asked, then applies the diff
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Respond with" in updated.stdout  # the question was asked, and answered
    assert "  graceful_timeout_seconds: 25\n" in (project / "config" / "config.yaml").read_text(encoding="utf-8")
    assert cruft(project, "check").returncode == 0
    assert not list(project.rglob("*.rej"))
    assert_clean_and_green(project)
