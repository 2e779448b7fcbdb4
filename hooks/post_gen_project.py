"""Remove what the answers did not choose, then tell the user what to do next.

Each option's leftovers are removed by a small function of its own; the answers arrive as one
JSON document (see pre_gen_project.py), and the hook runs inside the new project's folder.
"""

import json
import re
import shutil
from pathlib import Path
from typing import Any

# A requirement only some answers need, e.g. `flask-cors>=6.0,<7  # only with enable_cors` (a yes/no
# option) or `skl2onnx>=1.20,<2  # only with example_task=tabular,regression` (choices): the template
# keeps such lines plain (no Jinja), so pip can read its requirement files unrendered.
OPTIONAL_REQUIREMENT = re.compile(r"(?P<requirement>\S.*?)\s+# only with (?P<option>\w+)(?:=(?P<values>\S+))?")
# A requirement's name, as the lock files spell it.
REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9._-]+")
# The hash-checked lock of each choice of optional requirements, locks/<key>/, made by tools/lock_requirements.py
# with the render's own `make lock`: a render keeps the one of exactly its requirements (no lock is made at render
# time, which would need the package index).
LOCKS = "locks"
LOCK_FILES = ("requirements.txt", "requirements-dev.txt")
# The template's one folder per example task: its module (task.py), its tests and any data it ships.
TASKS = "tasks"
# How a task module names the kinds of input and output it uses (src/<package>/schemas/<kind>.py).
SCHEMA_IMPORT = re.compile(r"^from \.schemas\.(\w+) import", re.MULTILINE)

NEXT_STEPS = """
Created {{ cookiecutter.project_slug }}. Next:

    cd {{ cookiecutter.project_slug }}
    make run      # creates .venv, installs, trains the default model if none, serves on 0.0.0.0:8000
    curl -X POST localhost:8000/predict -H 'Content-Type: application/json' \\
{%- if cookiecutter.example_task == "text" %}
         -d '{"text": "Registered nurse with six years in intensive care and wound care"}'
{%- elif cookiecutter.example_task == "regression" %}
         -d '{"features": [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]}'
{%- else %}
         -d '{"features": [5.1, 3.5, 1.4, 0.2]}'
{%- endif %}
    make test     # the project's own tests, with its coverage gate
"""


def remove(project: Path, *paths: str) -> None:
    """Delete files or folders of the project; a path that is not there is a template bug."""
    for relative in paths:
        path = project / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def keep_chosen_requirements(path: Path, answers: dict[str, Any]) -> list[str]:
    """Drop the requirements of options that are off; unmark the others. Returns the names of the optional
    requirements kept, which name the lock to keep."""
    kept, optional_kept = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        optional = OPTIONAL_REQUIREMENT.fullmatch(line)
        if optional is None:
            kept.append(line)
        elif _chosen(answers[optional["option"]], optional["values"]):
            kept.append(optional["requirement"])
            name = REQUIREMENT_NAME.match(optional["requirement"])
            if name is None:
                raise ValueError(f"{path}: no requirement name in {line!r}")
            optional_kept.append(name[0].lower())
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return optional_kept


def _chosen(answer: object, values: str | None) -> bool:
    """A yes/no option is chosen when yes; a choice when it is one of the listed values."""
    return answer is True if values is None else answer in values.split(",")


def lock_key(optional: list[str]) -> str:
    """The folder of locks/ that pins these optional requirements and no other."""
    return "+".join(sorted(optional)) or "none"


def choose_lock(project: Path, optional: list[str]) -> None:
    """Put the lock of exactly these optional requirements in place, then drop every lock."""
    chosen = project / LOCKS / lock_key(optional)
    for name in LOCK_FILES:
        (chosen / name).replace(project / name)
    remove(project, LOCKS)


def choose_task(project: Path, package: str, task: str) -> None:
    """Put the chosen task's module, tests and data in place, then drop the other tasks, and the kinds of
    input and output that the task does not use: schemas/<kind>.py, its tests/test_<kind>.py and the
    page's templates/<kind>.html."""
    chosen, source = project / TASKS / task, project / "src" / package
    (chosen / "task.py").replace(source / "task.py")
    (chosen / "test_task.py").replace(project / "tests" / "test_task.py")
    if (chosen / "data").is_dir():
        (chosen / "data").replace(project / "data")
    remove(project, TASKS)
    used = set(SCHEMA_IMPORT.findall((source / "task.py").read_text(encoding="utf-8")))
    for module in sorted((source / "schemas").glob("*.py")):
        if module.stem != "__init__" and module.stem not in used:
            kind = module.stem
            remove(project, f"src/{package}/schemas/{kind}.py", f"src/{package}/api/templates/{kind}.html")
            remove(project, f"tests/test_{kind}.py")


def remove_docker(project: Path, package: str) -> None:
    remove(project, "Dockerfile", ".dockerignore", f"src/{package}/healthcheck.py", "tests/test_healthcheck.py")


def remove_kubernetes(project: Path) -> None:
    remove(project, "deploy")


def remove_ci(project: Path) -> None:
    remove(project, ".github")


def remove_web_ui(project: Path, package: str) -> None:
    api = f"src/{package}/api"
    remove(project, f"{api}/web.py", f"{api}/templates", f"{api}/static", "tests/test_web.py")


def remove_metrics(project: Path, package: str) -> None:
    remove(project, f"src/{package}/api/metrics.py", "tests/test_metrics.py")


def remove_cors(project: Path) -> None:
    remove(project, "tests/test_cors.py")


def remove_unchosen(project: Path, answers: dict[str, Any]) -> None:
    package = answers["package_name"]
    choose_lock(project, keep_chosen_requirements(project / "requirements.in", answers))
    choose_task(project, package, answers["example_task"])
    if not answers["include_docker"]:
        remove_docker(project, package)
    if not answers["include_kubernetes"]:
        remove_kubernetes(project)
    if answers["ci"] == "none":
        remove_ci(project)
    if not answers["include_web_ui"]:
        remove_web_ui(project, package)
    if not answers["enable_metrics"]:
        remove_metrics(project, package)
    if not answers["enable_cors"]:
        remove_cors(project)


if __name__ == "__main__":
    remove_unchosen(Path.cwd(), json.loads(r'''{{ cookiecutter | tojson }}'''))  # fmt: skip
    print(NEXT_STEPS)
