"""The generated README's Tour points learners at files and names: every one of them must exist in the render."""

import ast
import re
from pathlib import Path

# A row: | idea | `path` | `name` |, the path relative to the project, the name as it appears in the file.
TOUR_ROW = re.compile(r"^\| (?P<idea>[^|]+?) \| `(?P<path>[^`]+)` \| `(?P<name>[^`]+)` \|$", re.MULTILINE)
# Each idea the Tour promises to show, as it is worded in the idea column.
IDEAS = [
    "app factory",
    "blueprint",
    "route",
    "dynamic route",
    "`request` and `jsonify`",
    "`g`",
    "session",
    "jinja2 inheritance",
    "before-request hook",
    "after-request hook",
    "error handlers",
    "config kept apart from code",
    "load the model once",
    "safe persistence",
]


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


def test_every_file_and_name_the_tour_gives_is_in_the_default_render(default_project):
    rows = tour_rows((default_project / "README.md").read_text(encoding="utf-8"))
    assert len(rows) >= 25
    assert tour_problems(default_project) == []


def test_the_tour_shows_every_idea_it_promises(default_project):
    ideas = " ".join(idea.lower() for idea, _, _ in tour_rows((default_project / "README.md").read_text()))
    assert [idea for idea in IDEAS if idea not in ideas] == []


def test_the_check_names_a_missing_file_a_missing_name_and_a_template_without_it(tmp_path):
    (tmp_path / "README.md").write_text(
        "# A project\n\n## Tour\n\n| idea | file | name |\n| --- | --- | --- |\n"
        "| factory | `app.py` | `create_app` |\n"
        "| hook | `app.py` | `HOOKS` |\n"
        "| gone | `gone.py` | `anything` |\n"
        "| nested | `app.py` | `inner` |\n"
        '| inheritance | `page.html` | `{% extends "base.html" %}` |\n'
        "\n## Next section\n\n| outside | `gone.py` | `ignored` |\n"
    )
    (tmp_path / "app.py").write_text("HOOKS: list = []\n\n\ndef build():\n    def inner():\n        pass\n")
    (tmp_path / "page.html").write_text("<p>no inheritance</p>\n")
    assert tour_problems(tmp_path) == [
        "factory: app.py has no create_app",
        "gone: gone.py does not exist",
        "nested: app.py has no inner",
        'inheritance: page.html has no {% extends "base.html" %}',
    ]
