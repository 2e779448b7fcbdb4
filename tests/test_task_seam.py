"""The example task is one seam: one module per task, chosen at render time, that nothing else asks about.

Also what a newcomer relies on: the rendered package has no import cycle (imports inside functions
count, since a reader follows them too), and the README's "Bring your own model" holds on a render:
a CSV of one's own and an estimator of one's own, through config and the one function in task.py.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

from .matrix import TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
RENDERS = pytest.mark.parametrize(
    "rendered", ["default_project", "text_project", "regression_project"], ids=["tabular", "text", "regression"]
)


def mentioning(folder: Path, word: str) -> list[str]:
    return sorted(
        str(path.relative_to(PROJECT)) for path in folder.rglob("*") if path.is_file() and word in path.read_text()
    )


def test_no_module_under_src_and_no_shared_test_asks_which_task_it_is():
    assert mentioning(PROJECT / "src", "example_task") == []
    assert mentioning(PROJECT / "tests", "example_task") == []


def test_each_task_is_one_module_and_its_tests():
    tasks = sorted(path.name for path in (PROJECT / "tasks").iterdir())
    assert tasks == ["regression", "tabular", "text"]
    for task in tasks:
        assert (PROJECT / "tasks" / task / "task.py").is_file()
        assert (PROJECT / "tasks" / task / "test_task.py").is_file()


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its body (functions included)."""
    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                candidates = [target, *(f"{target}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(module for module in candidates if module in modules and module != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """The modules from which an import chain leads back to themselves."""

    def reachable(start):
        seen, todo = set(), [start]
        while todo:
            for module in graph[todo.pop()] - seen:
                seen.add(module)
                todo.append(module)
        return seen

    return sorted(module for module in graph if module in reachable(module))


def test_the_cycle_check_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("from .web import page\n")
    (package / "web.py").write_text("def page():\n    from .app import create_app\n")
    (package / "db.py").write_text("from . import app\n")
    assert cycles(import_graph(package)) == ["pkg.app", "pkg.web"]


@RENDERS
def test_the_rendered_package_has_no_import_cycle(rendered, request):
    (package,) = (request.getfixturevalue(rendered) / "src").iterdir()
    assert cycles(import_graph(package)) == []


@pytest.mark.slow
def test_bring_your_own_csv_and_estimator_without_editing_any_other_module(render, tmp_path, run_in):
    """The README's first two steps on a tabular render: a CSV with columns of one's own (config only), and a
    random forest instead of the logistic regression (the one function in task.py): the project's own suite,
    whose tests ask the task, still passes, and the service trains and predicts on the new data."""
    project = render(tmp_path / "render")
    rows = ["width,height,weight,kind,notes"]
    for index in range(60):
        large = index % 3 == 0
        kind, size = ("large", 6) if large else ("small", 1)
        rows.append(f"{size + index % 7 / 10},{size * 2 + index % 5 / 10},{size * 3},{kind},batch {index}")
    (project / "data").mkdir()
    (project / "data" / "boxes.csv").write_text("\n".join(rows) + "\n")
    config = project / "config" / "config.yaml"
    text = config.read_text()
    for old, new in [
        ("csv_path: null", "csv_path: data/boxes.csv"),
        ("feature_columns: null", "feature_columns: [width, height, weight]"),
        ("target_column: species", "target_column: kind"),
        ("    classify:\n      C: 1.0\n      max_iter: 500\n", "    classify:\n      n_estimators: 20\n"),
        ("trusted_types: []", "trusted_types: [sklearn.tree._tree.Tree]"),  # as the README says for a forest
    ]:
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text)
    task = next((project / "src").glob("*/task.py"))
    source = task.read_text()
    steps = re.search(r"def pipeline_steps\(\).*?\n\n\n|def pipeline_steps\(\).*\Z", source, re.DOTALL).group(0)
    forest = textwrap.dedent('''\
        def pipeline_steps() -> dict[str, type]:
            """The Pipeline's steps by name; each one's hyper-parameters come from model.hyperparameters.<name>."""
            from sklearn.ensemble import RandomForestClassifier
            from sklearn.preprocessing import StandardScaler

            return {"scale": StandardScaler, "classify": RandomForestClassifier}
        ''')
    task.write_text(source.replace(steps, forest + ("\n\n" if steps.endswith("\n\n\n") else "")))
    example = re.search(r"^EXAMPLE = .*$", task.read_text(), re.MULTILINE).group(0)
    task.write_text(task.read_text().replace(example, "EXAMPLE = [1.2, 2.3, 3]"))
    result = run_in(project, "python", "-m", next((project / "src").glob("*/task.py")).parent.name, "train")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "saved models/model.skops" in result.stdout
    metadata = (project / "models" / "model.json").read_text()
    assert '"feature_names": [\n    "width",\n    "height",\n    "weight"\n  ]' in metadata
    assert '"class_labels": [\n    "large",\n    "small"\n  ]' in metadata
    # Every test but the task's own (which states facts about iris) asks the task, so it holds for the new data.
    result = run_in(project, "pytest", "-q", "-p", "no:cacheprovider", "--no-cov", "--ignore=tests/test_task.py")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
