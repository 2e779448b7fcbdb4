"""Refuse answers that would render a broken project, before any file is written.

Every answer is read as data (one JSON document), never pasted into this source, so
quotes, backslashes or newlines in an answer cannot change what this hook does.
On failure cookiecutter deletes the half-made output folder.
"""

import json
import keyword
import re
import sys
from typing import Any

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
VERSION = re.compile(r"\d+(?:\.\d+){0,2}(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_FIELDS = ("project_name", "description", "author_name", "author_email")
MAX_NAME_LENGTH = 50

# Modules the generated project imports or installs, and its own top-level folders:
# a package with one of these names would shadow it.
SHADOWED = frozenset(sys.stdlib_module_names) | {
    "flask",
    "werkzeug",
    "jinja2",
    "itsdangerous",
    "click",
    "sklearn",
    "scipy",
    "numpy",
    "joblib",
    "threadpoolctl",
    "yaml",
    "skops",
    "granian",
    "onnx",
    "onnxruntime",
    "orjson",
    "prometheus_client",
    "skl2onnx",
    "pytest",
    "pytest_cov",
    "coverage",
    "ruff",
    "pre_commit",
    "setuptools",
    "pip",
    "test",
    "tests",
    "config",
    "models",
    "src",
}


def problems(values: dict[str, Any]) -> list[str]:
    """Every rule the answers break, one readable sentence each (empty when all is well)."""
    found = []
    for field in TEXT_FIELDS:
        if CONTROL.search(values[field]):
            found.append(f"{field}: must be one line without control characters")
    if not values["project_name"].strip():
        found.append("project_name: must not be empty")
    slug = values["project_slug"]
    if not SLUG.fullmatch(slug):
        found.append(
            f"project_slug {slug!r}: use lowercase letters, digits and single hyphens only "
            "(no spaces, slashes, dots or underscores), e.g. iris-classifier-service"
        )
    for field in ("project_slug", "package_name"):
        if len(values[field]) > MAX_NAME_LENGTH:
            found.append(f"{field}: must be at most {MAX_NAME_LENGTH} characters long")
    package = values["package_name"]
    if not PACKAGE.fullmatch(package):
        found.append(
            f"package_name {package!r}: must be a lowercase Python identifier "
            "(letters, digits, underscores; not starting with a digit), e.g. iris_classifier"
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        found.append(f"package_name {package!r}: is a Python keyword")
    elif package in SHADOWED:
        found.append(
            f"package_name {package!r}: would shadow the module {package!r} that the "
            "project imports; choose a more specific name"
        )
    if not EMAIL.fullmatch(values["author_email"]):
        found.append(f"author_email {values['author_email']!r}: is not an email address")
    if not VERSION.fullmatch(values["version"]):
        found.append(f"version {values['version']!r}: must be a PEP 440 version such as 0.1.0")
    if values["include_kubernetes"] and not values["include_docker"]:
        found.append("include_kubernetes: the manifests deploy the project's image, so it needs include_docker too")
    return found


def main(values: dict[str, Any]) -> int:
    found = problems(values)
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    # tojson escapes every ' so the answers cannot end this raw string early.
    sys.exit(main(json.loads(r'''{{ cookiecutter | tojson }}''')))  # fmt: skip
