"""Make the lock files of every choice of optional requirements: locks/<key>/requirements*.txt in the template,
each made by the render's own `make lock` on the requirements*.in a render with those answers has.

    python tools/lock_requirements.py            # keep today's pins where the ranges still allow them
    python tools/lock_requirements.py --upgrade  # the newest versions the ranges allow

Needs the package index and uv (requirements-dev.txt); ~2 s a lock. The post-generation hook keeps the lock
of a render's answers, so a render pins exactly what it declares without resolving anything itself.
"""

import argparse
import importlib.util
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from cookiecutter.environment import StrictEnvironment

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
INPUTS = ("requirements.in", "requirements-dev.in", "pyproject.toml")
# Each question's default answer (a list's first value), as the Makefile's Jinja sees them.
QUESTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
DEFAULTS = {name: value[0] if isinstance(value, list) else value for name, value in QUESTIONS.items()}


def load_hook() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("post_gen_project", TEMPLATE / "hooks" / "post_gen_project.py")
    if spec is None or spec.loader is None:
        raise ImportError("cannot load hooks/post_gen_project.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = load_hook()


def lock_choices() -> list[dict[str, Any]]:
    """Every combination of answers to the options that the optional requirements name."""
    lines = (PROJECT / "requirements.in").read_text(encoding="utf-8").splitlines()
    options = sorted({found["option"] for found in map(HOOK.OPTIONAL_REQUIREMENT.fullmatch, lines) if found})
    values = [[True, False] if isinstance(QUESTIONS[name], bool) else QUESTIONS[name] for name in options]
    return [dict(zip(options, answer, strict=True)) for answer in itertools.product(*values)]


def lock(answers: dict[str, Any], makefile: str, upgrade: bool, folder: Path) -> str:
    """Lock the requirements of these answers in `folder` with `make lock`, starting from their current lock."""
    for name in INPUTS:
        shutil.copy(PROJECT / name, folder / name)
    key: str = HOOK.lock_key(HOOK.keep_chosen_requirements(folder / "requirements.in", answers))
    current = PROJECT / HOOK.LOCKS / key
    for name in HOOK.LOCK_FILES:
        if (current / name).is_file():
            shutil.copy(current / name, folder / name)
    (folder / "Makefile").write_text(makefile, encoding="utf-8")
    uv = Path(sys.executable).parent / "uv"
    arguments = [f"UV={uv}", *(["LOCK_ARGS=--upgrade"] if upgrade else [])]
    subprocess.run([shutil.which("make") or "make", "--no-print-directory", "lock", *arguments], cwd=folder, check=True)  # noqa: S603
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--upgrade", action="store_true", help="the newest versions the ranges allow")
    upgrade = parser.parse_args().upgrade
    # The lock target is the same in every render: the defaults render it.
    template = StrictEnvironment(keep_trailing_newline=True).from_string((PROJECT / "Makefile").read_text("utf-8"))
    makefile = template.render(cookiecutter={**DEFAULTS, "package_name": "package"})
    made = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, answers in enumerate(lock_choices()):
            folder = Path(scratch, str(index))
            folder.mkdir()
            key = lock(answers, makefile, upgrade, folder)
            made[key] = folder
        shutil.rmtree(PROJECT / HOOK.LOCKS, ignore_errors=True)
        for key, folder in sorted(made.items()):
            (PROJECT / HOOK.LOCKS / key).mkdir(parents=True)
            for name in HOOK.LOCK_FILES:
                shutil.copy(folder / name, PROJECT / HOOK.LOCKS / key / name)
            print(f"{HOOK.LOCKS}/{key}")


if __name__ == "__main__":
    main()
