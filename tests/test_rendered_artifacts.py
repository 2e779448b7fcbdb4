"""Everything around the code that a render ships (Dockerfile, workflows, pre-commit, YAML) passes
the linters their ecosystems use, run here from PyPI packages since no Docker engine or GitHub is at hand."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from .conftest import TEMPLATE

# Each pre-commit hook id in the generated config, as the command that hook runs (the PyPI
# package behind it is installed here, so this needs no network), in check-only form.
HOOK_COMMANDS = {
    "ruff-check": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "end-of-file-fixer": ["end-of-file-fixer"],
    "trailing-whitespace": ["trailing-whitespace-fixer"],
    "check-yaml": ["check-yaml"],
    "check-toml": ["check-toml"],
    "check-added-large-files": ["check-added-large-files", "--enforce-all", "--maxkb=1024"],
    "mypy": ["mypy"],
}


# Hooks that pre-commit runs only on some files (by their "types").
ONLY_FILES_ENDING = {"check-yaml": (".yaml", ".yml"), "check-toml": (".toml",)}


def workflows(*projects):
    rendered = [path for project in projects for path in sorted((project / ".github" / "workflows").glob("*.yml"))]
    return rendered + sorted((TEMPLATE / ".github" / "workflows").glob("*.yml"))


# Every example task's render, for the checks whose files differ between them.
EVERY_TASK = pytest.mark.parametrize(
    "rendered", ["default_project", "text_project", "regression_project"], ids=["default", "text", "regression"]
)


@EVERY_TASK
def test_hadolint_finds_nothing_in_the_dockerfile(rendered, request, run_in):
    result = run_in(request.getfixturevalue(rendered), "hadolint", "Dockerfile")
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_the_image_runs_the_service_as_a_non_root_user_with_a_stdlib_healthcheck(default_project):
    lines = (default_project / "Dockerfile").read_text().splitlines()
    assert "USER 10001" in lines
    assert 'CMD ["python", "-m", "iris_classifier_service", "serve"]' in lines
    assert any("python -m iris_classifier_service train" in line for line in lines)
    assert 'CMD ["python", "-m", "iris_classifier_service.healthcheck"]' in " ".join(lines)


def test_every_workflow_matches_the_github_schema(default_project, text_project, regression_project, run_in):
    result = run_in(
        TEMPLATE,
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, workflows(default_project, text_project, regression_project)),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_tests_every_python_a_render_may_choose_and_installs_only_the_lock(default_project):
    jobs = yaml.safe_load((default_project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))["jobs"]
    choices = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))["python_version"]
    assert jobs["test"]["strategy"]["matrix"]["python-version"] == sorted(
        choices, key=lambda v: tuple(map(int, v.split(".")))
    )
    installs = [
        line
        for job in jobs.values()
        for step in job["steps"]
        for line in step.get("run", "").splitlines()
        if "pip install" in line
    ]
    assert installs
    assert all("--require-hashes -r requirements-dev.txt" in line or "--no-deps" in line for line in installs)


def test_dependabot_files_match_their_schema(default_project, run_in):
    files = [default_project / ".github" / "dependabot.yml", TEMPLATE / ".github" / "dependabot.yml"]
    result = run_in(TEMPLATE, "check-jsonschema", "--builtin-schema", "vendor.dependabot", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_any_workflow(default_project, text_project, regression_project, run_in):
    files = [
        *workflows(default_project, text_project, regression_project),
        default_project / ".github" / "dependabot.yml",
    ]
    result = run_in(TEMPLATE, "zizmor", "--offline", *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_pre_commit_config_validates(default_project, run_in):
    result = run_in(default_project, "pre-commit", "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_yaml_file_parses(default_project):
    for path in [*default_project.rglob("*.y*ml"), *(TEMPLATE / ".github").rglob("*.y*ml")]:
        assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None, path


@EVERY_TASK
def test_the_pre_commit_hooks_pass_when_run_directly(rendered, request, run_in, tmp_path):
    project = request.getfixturevalue(rendered)
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hook_ids = [hook["id"] for repo in config["repos"] for hook in repo["hooks"]]
    assert set(hook_ids) == set(HOOK_COMMANDS), "a hook was added or removed: update HOOK_COMMANDS"
    copy = shutil.copytree(project, tmp_path / "copy")  # the fixers rewrite files they would fix
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    listed = subprocess.run(["git", "ls-files", "--others", "--exclude-standard"], cwd=copy, capture_output=True)
    files = listed.stdout.decode().split()  # what pre-commit --all-files would see once committed
    for hook_id in hook_ids:
        command = HOOK_COMMANDS[hook_id]
        arguments = [] if command[0] in ("ruff", "mypy") else files
        if hook_id in ONLY_FILES_ENDING:
            arguments = [name for name in files if name.endswith(ONLY_FILES_ENDING[hook_id])]
        result = run_in(copy, *command, *arguments)
        assert result.returncode == 0, f"{hook_id}: {result.stdout}{result.stderr}"


# The PyPI package each GitHub hook repository of the config releases, at the version of its tag.
HOOK_PACKAGES = {
    "https://github.com/astral-sh/ruff-pre-commit": "ruff",
    "https://github.com/pre-commit/pre-commit-hooks": "pre-commit-hooks",
}


def pre_commit_configs(project):
    """(the config, the README's variant of it without GitHub), both parsed."""
    readme = (project / "README.md").read_text(encoding="utf-8").partition("### pre-commit\n")[2]
    variant = readme.partition("```yaml\n")[2].partition("```")[0]
    return yaml.safe_load((project / ".pre-commit-config.yaml").read_text()), yaml.safe_load(variant)


def test_the_pre_commit_variant_without_github_runs_the_same_hooks_at_the_same_versions(default_project):
    config, variant = pre_commit_configs(default_project)
    (local,) = variant["repos"]
    assert local["repo"] == "local"
    hooks = {hook["id"]: hook for hook in local["hooks"]}
    assert [hook["id"] for repo in config["repos"] for hook in repo["hooks"]] == list(hooks)
    locked = re.findall(r"^ruff==(\S+) ", (default_project / "requirements-dev.txt").read_text(), re.MULTILINE)
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            if repo["repo"] == "local":
                assert hooks[hook["id"]] == hook
                continue
            pin = f"{HOOK_PACKAGES[repo['repo']]}=={repo['rev'].removeprefix('v')}"
            assert hooks[hook["id"]]["additional_dependencies"] == [pin], hook["id"]
            assert hooks[hook["id"]].get("args") == hook.get("args"), hook["id"]
    ruff_rev = next(repo["rev"] for repo in config["repos"] if HOOK_PACKAGES.get(repo["repo"]) == "ruff")
    assert locked == [ruff_rev.removeprefix("v")]


@pytest.mark.slow
def test_pre_commit_runs_the_variant_without_github_and_it_catches_a_stray_space(default_project, run_folder, tmp_path):
    """pre-commit itself, as the README says, installing the hooks from PyPI (its cache shared by this run)."""
    copy = shutil.copytree(default_project, tmp_path / "project")
    (copy / ".pre-commit-config.local.yaml").write_text(yaml.safe_dump(pre_commit_configs(copy)[1]))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # this Python's mypy, as .venv's would be
        "PRE_COMMIT_HOME": str(run_folder / "pre-commit-cache"),
        "MYPY_CACHE_DIR": str(tmp_path / "mypy-cache"),
        "PYTHONPATH": "src",
    }

    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)

    def pre_commit_run():
        subprocess.run(["git", "add", "-A"], cwd=copy, check=True)  # what --all-files sees
        command = [sys.executable, "-m", "pre_commit", "run", "--all-files", "-c", ".pre-commit-config.local.yaml"]
        return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=600)

    with FileLock(run_folder / "pre-commit-cache.lock"):  # pre-commit's first install into its cache
        clean = pre_commit_run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    outcomes = re.findall(r"^(.+?)\.{3,}(Passed|Failed|Skipped)", clean.stdout, re.MULTILINE)
    assert [outcome for _, outcome in outcomes] == ["Passed"] * 8, clean.stdout
    (copy / "notes.txt").write_text("a stray space  \n")
    stray = pre_commit_run()
    assert stray.returncode == 1
    assert re.search(r"^trim trailing whitespace\.+Failed", stray.stdout, re.MULTILINE), stray.stdout


@pytest.mark.slow
def test_the_wheel_the_image_installs_holds_every_file_of_the_package(default_project, tmp_path):
    """The image installs with `pip install .`, not in editable mode: the page's templates and stylesheet
    must be in the wheel, not only in src/."""
    project = shutil.copytree(default_project, tmp_path / "project")  # a build writes into the tree
    sources = {str(path.relative_to(project / "src")) for path in (project / "src").rglob("*") if path.is_file()}
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(project)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    packaged = {name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name}
    assert "iris_classifier_service/api/templates/model_card.html" in packaged
    assert packaged == sources
