"""The template's options, the combinations its tests render, and what each answer must leave behind.

One place for it all, shared by test_render.py (the default render) and test_options.py (the matrix).
"""

import json
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
COOKIECUTTER_JSON = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
# The options with a fixed set of values, in prompt order: a list's first value is its default.
OPTIONS = {
    name: [True, False] if isinstance(value, bool) else value
    for name, value in COOKIECUTTER_JSON.items()
    if not name.startswith("_") and isinstance(value, bool | list)
}
DEFAULTS = {
    name: value if isinstance(value, bool) else value[0] for name, value in COOKIECUTTER_JSON.items() if name in OPTIONS
}
SHORT_NAMES = {
    "example_task": "task",
    "license": "license",
    "python_version": "py",
    "include_web_ui": "web",
    "enable_metrics": "metrics",
    "enable_cors": "cors",
    "include_docker": "docker",
    "include_kubernetes": "k8s",
    "ci": "ci",
}
# The default project name follows the example task (cookiecutter.json asks for the task first).
PROJECT_NAMES = {
    "tabular": "Iris Classifier Service",
    "text": "Resume Screener",
    "regression": "Diabetes Progression Service",
}
# The kinds of input and output (src/<package>/schemas/<kind>.py) each task uses; the others are not rendered.
TASK_KINDS = {"tabular": ("numbers", "classes"), "text": ("texts", "classes"), "regression": ("numbers", "values")}
# Every yes/no option, and ci, at its "everything" and at its "nothing".
ALL_ON = {
    "include_web_ui": True,
    "enable_metrics": True,
    "enable_cors": True,
    "include_docker": True,
    "include_kubernetes": True,
    "ci": "github",
}
ALL_OFF = {name: False if value is True else "none" for name, value in ALL_ON.items()}

# Every render has these files; each answer below adds its own.
COMMON_FILES = {
    ".gitignore",
    ".pre-commit-config.yaml",
    "LICENSE",
    "Makefile",
    "README.md",
    "config/config.yaml",
    "pyproject.toml",
    "requirements-dev.in",
    "requirements-dev.txt",
    "requirements.in",
    "requirements.txt",
    "src/{package}/__init__.py",
    "src/{package}/server.py",
    "src/{package}/rsgi_bridge.py",
    "src/{package}/__main__.py",
    "src/{package}/cli.py",
    "src/{package}/errors.py",
    "src/{package}/loadtest.py",
    "src/{package}/task.py",
    "src/{package}/api/__init__.py",
    "src/{package}/api/app.py",
    "src/{package}/api/auth.py",
    "src/{package}/api/errors.py",
    "src/{package}/api/extensions.py",
    "src/{package}/api/inference_protocol.py",
    "src/{package}/api/openapi.py",
    "src/{package}/api/routes.py",
    "src/{package}/api/serving.py",
    "src/{package}/data/__init__.py",
    "src/{package}/data/data_loader.py",
    "src/{package}/models/__init__.py",
    "src/{package}/models/model.py",
    "src/{package}/schemas/__init__.py",
    "src/{package}/utils/__init__.py",
    "src/{package}/utils/helpers.py",
    "tests/conftest.py",
    "tests/test_api.py",
    "tests/test_auth.py",
    "tests/test_cli.py",
    "tests/test_data_loader.py",
    "tests/test_helpers.py",
    "tests/test_inference_protocol.py",
    "tests/test_model.py",
    "tests/test_openapi.py",
    "tests/test_serving.py",
    "tests/test_rsgi_bridge.py",
    "tests/test_task.py",
}
# (option, value) -> the files that answer adds, and a pattern nothing may match when it is not chosen
# (case-insensitive, over every rendered file and name).
CHOICES = {
    ("example_task", "tabular"): (set(), r"\b(?:iris|setosa|versicolor|virginica|sepal\w*|petal\w*)\b"),
    ("example_task", "text"): ({"data/README.md", "data/resumes.csv"}, r"\b(?:resumes?|nurse|max_chars|tfidf\w*)\b"),
    ("example_task", "regression"): (set(), r"\b(?:diabetes|progression|ridge|bmi|rmse)\b"),
    ("include_docker", True): (
        {".dockerignore", "Dockerfile", "src/{package}/healthcheck.py", "tests/test_healthcheck.py"},
        r"docker|healthcheck",
    ),
    ("include_kubernetes", True): (
        {
            "deploy/kubernetes/base/kustomization.yaml",
            "deploy/kubernetes/base/namespace.yaml",
            "deploy/kubernetes/base/serviceaccount.yaml",
            "deploy/kubernetes/base/deployment.yaml",
            "deploy/kubernetes/base/service.yaml",
            "deploy/kubernetes/base/horizontalpodautoscaler.yaml",
            "deploy/kubernetes/base/poddisruptionbudget.yaml",
            "deploy/kubernetes/base/networkpolicy.yaml",
            "deploy/kubernetes/overlays/production/kustomization.yaml",
            "deploy/kserve/inferenceservice.yaml",
        },
        r"deploy/|kustomiz\w*|inferenceservice|include_kubernetes|kubectl|servicemonitor",
    ),
    ("ci", "github"): (
        {".github/dependabot.yml", ".github/workflows/ci.yml"},
        r"(?<!\w)\.github\b|dependabot|github actions",
    ),
    ("include_web_ui", True): (
        {
            "src/{package}/api/web.py",
            "src/{package}/api/templates/base.html",
            "src/{package}/api/templates/model_card.html",
            "src/{package}/api/static/web.css",
            "tests/test_web.py",
        },
        r"model.card|api/web\.py|csrf|include_web_ui",
    ),
    ("enable_metrics", True): (
        {"src/{package}/api/metrics.py", "tests/test_metrics.py"},
        r"prometheus|/metrics\b|enable_metrics",
    ),
    ("enable_cors", True): ({"tests/test_cors.py"}, r"\bcors\b|flask_cors|flask-cors"),
}


# Pairs of answers the pre-generation hook refuses: the manifests deploy the image the Dockerfile builds.
REFUSED_PAIRS = {(("include_docker", False), ("include_kubernetes", True))}


def answers_of(overrides: dict) -> dict:
    """A combination's every option, the defaults filling in what it does not set (the name follows the task)."""
    unknown = set(overrides) - set(OPTIONS)
    assert not unknown, f"not options of cookiecutter.json: {unknown}"
    return {**DEFAULTS, **overrides}


def package_of(answers: dict) -> str:
    return PROJECT_NAMES[answers["example_task"]].lower().replace(" ", "_")


def combination_id(answers: dict) -> str:
    """Readable, e.g. task:text-docker:n-ci:none-..."""

    def shown(value):
        return {True: "y", False: "n"}.get(value, value) if isinstance(value, bool) else value

    return "-".join(f"{SHORT_NAMES[name]}:{shown(answers[name])}" for name in OPTIONS)


def expected_files(answers: dict) -> set[str]:
    files = set(COMMON_FILES)
    for (option, value), (added, _) in CHOICES.items():
        if answers[option] == value:
            files |= added
    for kind in TASK_KINDS[answers["example_task"]]:
        files |= {f"src/{{package}}/schemas/{kind}.py", f"tests/test_{kind}.py"}
        if answers["include_web_ui"]:
            files.add(f"src/{{package}}/api/templates/{kind}.html")
    return {name.format(package=package_of(answers)) for name in files}


def unchosen_patterns(answers: dict) -> list[re.Pattern]:
    return [
        re.compile(pattern, re.IGNORECASE)
        for (option, value), (_, pattern) in CHOICES.items()
        if answers[option] != value
    ]


# A Jinja tag naming cookiecutter, or a raw block (which guards GitHub's own ${{ }} expressions).
MARKER = re.compile(r"(\{\{|\{%)[^}]*cookiecutter|\{%-?\s*(end)?raw\b")


def project_files(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob("*") if path.is_file())
