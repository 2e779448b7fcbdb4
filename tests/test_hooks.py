"""The hooks' functions on their own, on small folders made here: no cookiecutter run needed."""

import importlib.util
import json

import pytest

from .matrix import ALL_OFF, ALL_ON, DEFAULTS, TASK_KINDS, TEMPLATE


def load_hook(name):
    """A hook is a script that cookiecutter renders first; its functions import as they are."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


post_gen = load_hook("post_gen_project")
pre_gen = load_hook("pre_gen_project")
ANSWERS = {
    **json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8")),
    **DEFAULTS,
    "project_slug": "iris-classifier-service",
    "package_name": "iris_classifier_service",
}


def test_optional_requirements_are_kept_unmarked_or_dropped(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# run time\nflask<4\nflask-cors<7  # only with enable_cors\nprometheus-client<1  # only with enable_metrics\n"
        "skl2onnx<2  # only with example_task=tabular,regression\nnltk<4  # only with example_task=text\n"
    )
    answers = {"enable_cors": False, "enable_metrics": True, "example_task": "regression"}
    assert post_gen.keep_chosen_requirements(requirements, answers) == ["prometheus-client", "skl2onnx"]
    assert requirements.read_text() == "# run time\nflask<4\nprometheus-client<1\nskl2onnx<2\n"


def test_a_marker_naming_no_option_is_a_template_bug(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("x<2  # only with no_such_option\n")
    with pytest.raises(KeyError, match="no_such_option"):
        post_gen.keep_chosen_requirements(requirements, {})


def make_locks(root, *keys):
    """locks/<key>/ for each key, each lock naming its key."""
    for key in keys:
        (root / "locks" / key).mkdir(parents=True)
        for name in post_gen.LOCK_FILES:
            (root / "locks" / key / name).write_text(f"{key}\n")
    return root


def test_the_lock_of_exactly_the_kept_optional_requirements_takes_its_place(tmp_path):
    make_locks(tmp_path, "none", "prometheus-client", "flask-cors+prometheus-client")
    post_gen.choose_lock(tmp_path, ["prometheus-client", "flask-cors"])
    assert remaining(tmp_path) == sorted(post_gen.LOCK_FILES)
    assert {(tmp_path / name).read_text() for name in post_gen.LOCK_FILES} == {"flask-cors+prometheus-client\n"}


def test_a_choice_without_a_lock_fails_loudly(tmp_path):
    make_locks(tmp_path, "none")
    with pytest.raises(FileNotFoundError):
        post_gen.choose_lock(tmp_path, ["skl2onnx"])


def make_project(root, files):
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("flask\nprometheus-client  # only with enable_metrics\n")
    return root


def remaining(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


OPTIONAL_FILES = [
    "Dockerfile",
    ".dockerignore",
    ".github/workflows/ci.yml",
    ".github/dependabot.yml",
    "src/iris_classifier_service/healthcheck.py",
    "src/iris_classifier_service/api/metrics.py",
    "src/iris_classifier_service/api/web.py",
    "src/iris_classifier_service/api/templates/base.html",
    "src/iris_classifier_service/api/static/web.css",
    "tests/test_web.py",
    "tests/test_healthcheck.py",
    "tests/test_metrics.py",
    "tests/test_cors.py",
    "deploy/kubernetes/base/deployment.yaml",
    "deploy/kserve/inferenceservice.yaml",
]
KINDS = sorted({kind for kinds in TASK_KINDS.values() for kind in kinds})


def make_tasks(root):
    """The template's tasks/ folder, and every kind's module, tests and page template, as small stand-ins."""
    for task, kinds in TASK_KINDS.items():
        (root / "tasks" / task).mkdir(parents=True)
        imports = "".join(f"from .schemas.{kind} import {kind.title()}\n" for kind in kinds)
        (root / "tasks" / task / "task.py").write_text(f'"""The {task} task."""\n\n{imports}')
        (root / "tasks" / task / "test_task.py").write_text(f'"""The {task} task\'s tests."""\n')
    (root / "tasks" / "text" / "data").mkdir()
    (root / "tasks" / "text" / "data" / "resumes.csv").write_text("text,label\n")
    make_project(
        root,
        [
            "src/iris_classifier_service/schemas/__init__.py",
            *(f"src/iris_classifier_service/schemas/{kind}.py" for kind in KINDS),
            *(f"src/iris_classifier_service/api/templates/{kind}.html" for kind in KINDS),
            *(f"tests/test_{kind}.py" for kind in KINDS),
        ],
    )
    return root


def task_files(task, web=True):
    """What a render keeps of the tasks: the chosen module and tests, its kinds, and (text) the sample data."""
    kinds = TASK_KINDS[task]
    return [
        *(["data/resumes.csv"] if task == "text" else []),
        "src/iris_classifier_service/schemas/__init__.py",
        *(f"src/iris_classifier_service/schemas/{kind}.py" for kind in kinds),
        *(f"src/iris_classifier_service/api/templates/{kind}.html" for kind in kinds if web),
        "src/iris_classifier_service/task.py",
        *(f"tests/test_{kind}.py" for kind in kinds),
        "tests/test_task.py",
    ]


def test_everything_off_removes_every_optional_file(tmp_path):
    project = make_project(
        make_locks(make_tasks(tmp_path), "none", "prometheus-client"), ["requirements.in", "README.md", *OPTIONAL_FILES]
    )
    post_gen.remove_unchosen(project, {**ANSWERS, **ALL_OFF, "example_task": "tabular"})
    expected = ["README.md", "requirements.in", *post_gen.LOCK_FILES, *task_files("tabular", web=False)]
    assert remaining(project) == sorted(expected)
    assert (project / "requirements.in").read_text() == "flask\n"
    assert (project / "requirements.txt").read_text() == "none\n"


def test_everything_on_removes_nothing_optional(tmp_path):
    project = make_project(
        make_locks(make_tasks(tmp_path), "none", "prometheus-client"), ["requirements.in", *OPTIONAL_FILES]
    )
    post_gen.remove_unchosen(project, {**ANSWERS, **ALL_ON, "example_task": "text"})
    assert remaining(project) == sorted(["requirements.in", *post_gen.LOCK_FILES, *OPTIONAL_FILES, *task_files("text")])
    assert (project / "requirements.in").read_text() == "flask\nprometheus-client\n"
    assert (project / "requirements.txt").read_text() == "prometheus-client\n"


@pytest.mark.parametrize("task", TASK_KINDS)
def test_the_chosen_task_takes_its_place_with_only_the_kinds_it_imports(tmp_path, task):
    post_gen.choose_task(make_tasks(tmp_path), "iris_classifier_service", task)
    assert remaining(tmp_path) == sorted(task_files(task))
    assert (tmp_path / "src/iris_classifier_service/task.py").read_text().startswith(f'"""The {task} task."""')


def test_removing_a_file_the_template_lacks_fails_loudly(tmp_path):
    with pytest.raises(FileNotFoundError):
        post_gen.remove(tmp_path, "Dockerfile")


def test_the_default_answers_break_no_rule():
    assert pre_gen.problems(ANSWERS) == []


def test_every_broken_rule_is_reported_at_once():
    found = pre_gen.problems({**ANSWERS, "project_slug": "Bad Slug", "author_email": "nobody", "version": "one"})
    assert [problem.split()[0] for problem in found] == ["project_slug", "author_email", "version"]
