"""The options matrix: every value of every option rendered, every pair of values of two options
rendered together at least once, plus the defaults and the all-on and all-off extremes. Each render has
exactly its files, nothing unrendered or unchosen left in it, is ruff-clean and passes its own suite.
"""

import itertools
import re
import tomllib

import pytest

from .matrix import (
    ALL_OFF,
    ALL_ON,
    COOKIECUTTER_JSON,
    MARKER,
    OPTIONS,
    REFUSED_PAIRS,
    TEMPLATE,
    answers_of,
    combination_id,
    expected_files,
    project_files,
    unchosen_patterns,
)
from .tour import tour_problems

# What each combination changes from the defaults; tests/pairwise check that they cover every pair. The options
# that change what a render's own suite reads (the task, the page, metrics, CORS, Docker's healthcheck) take only 7
# sets of values among the 16 (found by a search), so the suites run 7 times, not 16 (conftest.suite_digest); the
# license, the Python version, Kubernetes and CI vary freely around them.
COMBINATIONS = [
    {},
    {**ALL_ON, "example_task": "regression", "license": "BSD-3-Clause", "python_version": "3.14"},
    {**ALL_OFF, "example_task": "regression", "python_version": "3.11"},
    {**ALL_OFF, "example_task": "regression", "license": "BSD-3-Clause"},
    {
        "example_task": "text",
        "license": "Proprietary",
        "python_version": "3.14",
        "include_web_ui": False,
        "enable_metrics": False,
        "enable_cors": True,
        "include_kubernetes": False,
        "ci": "none",
    },
    {
        "example_task": "regression",
        "license": "Apache-2.0",
        "python_version": "3.11",
        "enable_cors": True,
        "ci": "none",
    },
    {"license": "Apache-2.0", "python_version": "3.14"},
    {"license": "BSD-3-Clause", "python_version": "3.13", "include_kubernetes": False},
    {
        "example_task": "text",
        "license": "BSD-3-Clause",
        "python_version": "3.11",
        "include_docker": False,
        "include_kubernetes": False,
        "ci": "none",
    },
    {
        "license": "Proprietary",
        "python_version": "3.11",
        "include_web_ui": False,
        "enable_cors": True,
        "include_docker": False,
        "include_kubernetes": False,
    },
    {
        "license": "Proprietary",
        "enable_metrics": False,
        "include_docker": False,
        "include_kubernetes": False,
        "ci": "none",
    },
    {
        "example_task": "text",
        "python_version": "3.13",
        "include_web_ui": False,
        "enable_metrics": False,
        "enable_cors": True,
    },
    {
        "example_task": "text",
        "license": "Apache-2.0",
        "python_version": "3.13",
        "include_docker": False,
        "include_kubernetes": False,
    },
    {
        "example_task": "text",
        "license": "Apache-2.0",
        "include_web_ui": False,
        "enable_metrics": False,
        "enable_cors": True,
        "ci": "none",
    },
    {
        "example_task": "regression",
        "license": "Proprietary",
        "python_version": "3.13",
        "enable_cors": True,
        "ci": "none",
    },
    {
        "example_task": "regression",
        "python_version": "3.14",
        "include_web_ui": False,
        "enable_metrics": False,
        "include_docker": False,
        "include_kubernetes": False,
    },
]
ANSWERS = [answers_of(combination) for combination in COMBINATIONS]


def test_the_combinations_render_every_pair_of_option_values_together():
    wanted = {
        ((first, one), (second, other))
        for first, second in itertools.combinations(OPTIONS, 2)
        for one in OPTIONS[first]
        for other in OPTIONS[second]
    } - REFUSED_PAIRS
    rendered = {
        ((first, answers[first]), (second, answers[second]))
        for answers in ANSWERS
        for first, second in itertools.combinations(OPTIONS, 2)
    }
    assert sorted(wanted - rendered) == []


def test_the_combinations_include_the_defaults_and_both_extremes():
    assert {} in COMBINATIONS
    for extreme in (ALL_ON, ALL_OFF):
        assert any(extreme.items() <= combination.items() for combination in COMBINATIONS)
    assert set(ALL_ON) == set(ALL_OFF) == {name for name, values in OPTIONS.items() if values == [True, False]} | {"ci"}
    assert len({combination_id(answers) for answers in ANSWERS}) == len(ANSWERS)


def test_every_question_has_a_prompt_and_a_row_in_the_readmes_table():
    questions = [name for name in COOKIECUTTER_JSON if not name.startswith("_")]
    assert list(COOKIECUTTER_JSON["__prompts__"]) == questions
    section = (TEMPLATE / "README.md").read_text(encoding="utf-8").partition("## The prompts")[2].partition("\n## ")[0]
    assert re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE) == questions


@pytest.fixture(scope="module", params=ANSWERS, ids=combination_id)
def rendered(request, render, tmp_path_factory):
    answers = request.param
    return answers, render(tmp_path_factory.mktemp("combination"), **answers)


def test_the_render_has_exactly_the_files_of_its_answers(rendered):
    answers, project = rendered
    assert {str(path.relative_to(project)) for path in project_files(project)} == expected_files(answers)


def test_nothing_unrendered_or_unchosen_is_left_in_any_name_or_file(rendered):
    answers, project = rendered
    leftovers = []
    for path in project_files(project):
        name = str(path.relative_to(project))
        text = path.read_text(encoding="utf-8")
        for pattern in [MARKER, *unchosen_patterns(answers)]:
            leftovers += [f"{name}: {match}" for match in {*pattern.findall(name), *pattern.findall(text)}]
    assert leftovers == []


def test_the_license_and_python_version_are_the_chosen_ones(rendered):
    answers, project = rendered
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    spdx = {"Proprietary": "LicenseRef-Proprietary"}.get(answers["license"], answers["license"])
    assert metadata["license"] == spdx
    license_text = (project / "LICENSE").read_text(encoding="utf-8")
    assert (
        license_text.split()[:2]
        == {
            "MIT": ["MIT", "License"],
            "BSD-3-Clause": ["BSD", "3-Clause"],
            "Apache-2.0": ["Apache", "License"],
            "Proprietary": ["Copyright", "(c)"],
        }[answers["license"]]
    )
    assert f"Python {answers['python_version']}" in (project / "README.md").read_text(encoding="utf-8")


def test_the_tour_names_only_files_and_names_the_render_has(rendered):
    assert tour_problems(rendered[1]) == []


@pytest.mark.slow
def test_the_render_is_ruff_clean_and_passes_its_own_suite_with_its_coverage_gate(rendered, assert_clean_and_green):
    assert_clean_and_green(rendered[1])
