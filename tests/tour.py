"""The generated README's Tour, read as data: its rows, and what in a render they fail to find."""

import ast
import re
from pathlib import Path

# A row: | idea | `path` | `name` |, the path relative to the project, the name as it appears in the file.
TOUR_ROW = re.compile(r"^\| (?P<idea>[^|]+?) \| `(?P<path>[^`]+)` \| `(?P<name>[^`]+)` \|$", re.MULTILINE)


def tour_rows(readme: str) -> list[tuple[str, str, str]]:
    """(idea, path, name) for each row of the README's "## Tour" section."""
    section = readme.partition("\n## Tour")[2].partition("\n## ")[0]
    return TOUR_ROW.findall(section)


def defined_names(source: str) -> set[str]:
    """The module-level names a Python file defines: functions, classes and assigned names."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def tour_problems(project: Path) -> list[str]:
    """Every Tour row of `project`'s README whose file is missing, or whose name that file lacks: a Python
    file must define the name at module level; any other file (a template) must contain it as written."""
    problems = []
    for idea, path, name in tour_rows((project / "README.md").read_text(encoding="utf-8")):
        file = project / path
        if not file.is_file():
            problems.append(f"{idea}: {path} does not exist")
            continue
        source = file.read_text(encoding="utf-8")
        found = name in defined_names(source) if file.suffix == ".py" else name in source
        if not found:
            problems.append(f"{idea}: {path} has no {name}")
    return problems
