"""What users type at the prompts: awkward but valid answers render and pass; invalid ones leave nothing."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException

from .matrix import TEMPLATE

AWKWARD = {
    "project_name": "Ñandú Café \"Prédictions\" — l'atelier de l'IA pour la classification des espèces d'iris",
    "description": 'Quotes " and \' and a backslash \\ and {braces}, emoji 🌸, and a """triple""" quote',
    "author_name": 'Zoë O\'Brien-Łukasiewicz \\ "Dev"',
    "author_email": "zoe.obrien+ml@example.co.uk",
}


@pytest.fixture(scope="module")
def awkward_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("awkward"), **AWKWARD)


def test_awkward_answers_render_into_a_valid_project(awkward_project):
    assert awkward_project.name.startswith("nandu-cafe-predictions-l-atelier")
    metadata = tomllib.loads((awkward_project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert metadata["description"] == AWKWARD["description"]
    assert metadata["authors"] == [{"name": AWKWARD["author_name"], "email": AWKWARD["author_email"]}]
    assert AWKWARD["project_name"] in (awkward_project / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_awkward_answers_give_a_lint_clean_passing_project(awkward_project, assert_clean_and_green):
    assert_clean_and_green(awkward_project)


INVALID = [
    ({"project_slug": "Iris Service"}, "project_slug 'Iris Service': use lowercase letters"),
    ({"project_slug": "iris/service"}, "project_slug 'iris/service'"),
    ({"project_slug": "iris.service"}, "project_slug 'iris.service'"),
    ({"project_slug": "iris_service"}, "project_slug 'iris_service'"),
    ({"project_name": "   ", "project_slug": "blank"}, "project_name: must not be empty"),
    ({"project_name": "Two\nlines"}, "project_name: must be one line"),
    ({"project_slug": "2-fast"}, "package_name '2_fast': must be a lowercase Python identifier"),
    ({"project_slug": "a" * 51}, "project_slug: must be at most 50 characters long"),
    ({"package_name": "Iris"}, "package_name 'Iris': must be a lowercase Python identifier"),
    ({"package_name": "class"}, "package_name 'class': is a Python keyword"),
    ({"package_name": "flask"}, "package_name 'flask': would shadow the module 'flask'"),
    ({"package_name": "sklearn"}, "package_name 'sklearn': would shadow"),
    ({"package_name": "yaml"}, "package_name 'yaml': would shadow"),
    ({"package_name": "onnxruntime"}, "package_name 'onnxruntime': would shadow"),
    ({"package_name": "test"}, "package_name 'test': would shadow"),
    ({"package_name": "json"}, "package_name 'json': would shadow"),
    ({"author_email": "not-an-email"}, "author_email 'not-an-email': is not an email address"),
    ({"author_email": "a@b"}, "author_email 'a@b': is not an email address"),
    ({"author_email": "two@at@example.com"}, "author_email 'two@at@example.com'"),
    ({"version": "one"}, "version 'one': must be a PEP 440 version"),
    (
        {"include_docker": False},
        "include_kubernetes: the manifests deploy the project's image, so it needs include_docker",
    ),
]


@pytest.mark.parametrize(("answers", "message"), INVALID, ids=[message.split(":")[0] for _, message in INVALID])
def test_an_invalid_answer_is_refused_by_name_and_leaves_nothing(render, tmp_path, capfd, answers, message):
    with pytest.raises(FailedHookException):
        render(tmp_path, **answers)
    assert message in capfd.readouterr().err
    left = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    # cookiecutter makes a slug's parent folders before any hook can run; only they, empty, remain.
    assert left == (["iris"] if "/" in answers.get("project_slug", "") else [])


def test_cookiecutters_command_line_shows_the_refusal_without_a_traceback(tmp_path):
    command = [str(Path(sys.executable).parent / "cookiecutter"), "--no-input", "-o", str(tmp_path), str(TEMPLATE)]
    refused = subprocess.run([*command, "package_name=1bad"], capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "package_name '1bad': must be a lowercase Python identifier" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr


def test_an_unknown_example_task_is_refused_before_anything_is_written(render, tmp_path):
    with pytest.raises(ValueError, match=r"the choices are \['tabular', 'text', 'regression'\]"):
        render(tmp_path, example_task="images")
    assert list(tmp_path.iterdir()) == []
