"""Render the template the way users do (the cookiecutter API) and run what they would run; start the
rendered service's real production server for the end-to-end tests."""

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from filelock import FileLock

from .matrix import TEMPLATE

JSON = {"Content-Type": "application/json"}
# What the tests marked `needs(...)` run, from Debian: the browser (Debian's chromium, or the Google Chrome of
# GitHub's Ubuntu runners, with its chromedriver in $CHROMEWEBDRIVER), its driver, and the load generator.
CHROMIUM = Path(shutil.which("chromium") or shutil.which("google-chrome") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or Path(os.environ.get("CHROMEWEBDRIVER", "/usr/bin"), "chromedriver"))
SYSTEM_TOOLS = {
    "chromium": CHROMIUM,
    "chromium-driver": CHROMEDRIVER,
    "wrk": Path(shutil.which("wrk") or "/usr/bin/wrk"),
    "kubectl": Path(shutil.which("kubectl") or "/usr/local/bin/kubectl"),  # not Debian's: kubernetes.io's
}
# The other example tasks (their project names follow the task).
TEXT_ANSWERS = {"example_task": "text"}
REGRESSION_ANSWERS = {"example_task": "regression"}


@pytest.fixture(scope="session")
def render():
    """render(output_dir, **answers) -> the rendered project's folder (non-interactive, like --no-input)."""

    def bake(output_dir, **answers):
        return Path(cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(output_dir)))

    return bake


@pytest.fixture(scope="session")
def default_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def text_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("text"), **TEXT_ANSWERS)


@pytest.fixture(scope="session")
def regression_project(render, tmp_path_factory):
    return render(tmp_path_factory.mktemp("regression"), **REGRESSION_ANSWERS)


@pytest.fixture(scope="session")
def run_in(tmp_path_factory):
    """run_in(project, tool, *arguments) -> the finished process; the caller asserts on it.

    The tool is a console script installed beside this Python (pytest, ruff, hadolint, ...).
    """
    coverage_file = tmp_path_factory.mktemp("coverage") / ".coverage"
    # One mypy cache per pytest-xdist worker, outside the renders: the libraries' types are read once (5 s a render).
    mypy_cache = tmp_path_factory.mktemp("mypy-cache")

    def run(project, *command, timeout=600):
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
        # Leave the render as it was made: no caches or coverage data written into it.
        env.update(RUFF_NO_CACHE="true", MYPY_CACHE_DIR=str(mypy_cache), PYTHONDONTWRITEBYTECODE="1")
        env["COVERAGE_FILE"] = str(coverage_file)
        env["PYTHONPATH"] = "src"  # the render's package, uninstalled, as its pytest config finds it
        # pytest with the one plugin a render's lock has, pytest-cov; not this venv's others (schemathesis,
        # hypothesis, anyio, xdist), which a generated test could otherwise lean on unseen. 1 s less a run, too.
        env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTEST_PLUGINS="pytest_cov.plugin")
        return subprocess.run(
            [str(Path(sys.executable).parent / command[0]), *command[1:]],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def assert_clean_and_green(run_in, run_folder):
    """assert_clean_and_green(project): ruff-clean, mypy-clean (strict, its pyproject.toml), and its own suite
    passes with its coverage gate. Renders whose suites read the same files share one run of it (suite_digest)."""

    def run_suite(project, folder):
        result = run_in(project, "pytest", "-q", "-p", "no:cacheprovider")
        outcome = {"render": str(project), "returncode": result.returncode, "output": result.stdout[-5000:]}
        written = folder.with_name(f"{folder.name}.partial")
        written.mkdir()
        (written / "outcome.json").write_text(json.dumps(outcome))
        written.rename(folder)

    def check(project):
        for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
            result = run_in(project, *command)
            assert result.returncode == 0, f"{command}: {result.stdout[-5000:]}{result.stderr[-2000:]}"
        folder = made_once(run_folder / f"suite-{suite_digest(project)}", lambda folder: run_suite(project, folder))
        outcome = json.loads((folder / "outcome.json").read_text())
        ran = "" if outcome["render"] == str(project) else f"(run on {outcome['render']}, alike) "
        assert outcome["returncode"] == 0, f"{ran}{outcome['output']}"
        assert "Required test coverage of 90% reached" in outcome["output"], ran + outcome["output"]

    return check


def suite_digest(project: Path) -> str:
    """The sha256 of what a render's own suite reads: its package, tests, config and data, pyproject.toml's tool
    settings, and the README's title (the page's). Renders that differ only elsewhere (license, Python version,
    CI, deployment files) pass or fail alike, so their suite runs once for all of them."""
    digest = hashlib.sha256()
    for folder in ("src", "tests", "config", "data"):
        for path in sorted((project / folder).rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(project)}\0".encode())
                digest.update(path.read_bytes())
    tools = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    digest.update(json.dumps(tools, sort_keys=True).encode())
    digest.update((project / "README.md").read_text(encoding="utf-8").partition("\n")[0].encode())
    return digest.hexdigest()


def install(project, installer="pip"):
    """Install a render as its README says (`make install`, with pip or uv), then train it with the Dockerfile's own
    step."""
    (train_step,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.endswith(" train")]
    train = train_step.removeprefix("RUN ").split()
    make_install = ["make", "install", f"INSTALLER={installer}"]
    for command in (make_install, [str(project / ".venv" / "bin" / train[0]), *train[1:]]):
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return project


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory, worker_id) -> Path:
    """The folder every pytest-xdist worker of this run shares (each has a temporary folder of its own in it)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def made_once(folder: Path, make) -> Path:
    """`folder`, made by make(folder) by the first worker to ask while the others wait on its lock."""
    with FileLock(f"{folder}.lock"):
        if not folder.is_dir():
            make(folder)
    return folder


@pytest.fixture(scope="session")
def shared_install(render, run_folder):
    """shared_install(name, **answers) -> that render, installed and trained once for the whole run: the default
    render with pip, as the image and CI install; the others with uv, the same lock in seconds."""

    def installed(name, **answers):
        installer = str(Path(sys.executable).parent / "uv") if answers else "pip"
        folder = made_once(
            run_folder / f"installed-{name}", lambda folder: install(render(folder, **answers), installer)
        )
        (project,) = [path for path in folder.iterdir() if path.is_dir()]
        return project

    return installed


@pytest.fixture(scope="session")
def installed_project(shared_install):
    """A default render, installed and trained."""
    return shared_install("default")


@pytest.fixture(scope="session")
def installed_text_project(shared_install):
    """A text render, installed and trained."""
    return shared_install("text", **TEXT_ANSWERS)


@pytest.fixture(scope="session")
def installed_regression_project(shared_install):
    """A regression render, installed and trained."""
    return shared_install("regression", **REGRESSION_ANSWERS)


def env_prefix(project: Path) -> str:
    """The prefix of the project's config environment variables: its package name, upper case."""
    (package,) = [path.parent.name for path in (project / "src").glob("*/__init__.py")]
    return f"{package.upper()}__"


def docker_cmd(project: Path) -> list[str]:
    """The CMD of the project's Dockerfile, so the test starts the service exactly as the image does."""
    (line,) = [line for line in (project / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    return json.loads(line.removeprefix("CMD "))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=10):
    """One request on a new connection -> (status, headers, parsed JSON or raw text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, dict | list):
            body, headers = json.dumps(body), {**JSON, **(headers or {})}
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read().decode()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, response.headers, json.loads(data) if is_json else data  # headers: any case
    finally:
        connection.close()


class Server:
    """The production server (the Dockerfile's CMD), started from the project's folder with its own .venv, on a
    free loopback port."""

    def __init__(self, project: Path, wrapper: Sequence[str] = (), variables: dict | None = None, **settings):
        """`settings` by config key (server__workers=2), `variables` as they are; `wrapper` runs the command."""
        self.project, self.port, self.prefix = project, free_port(), env_prefix(project)
        env = {**os.environ, "PATH": f"{project / '.venv' / 'bin'}:{os.environ['PATH']}", **(variables or {})}
        env.update({f"{self.prefix}SERVER__HOST": "127.0.0.1", f"{self.prefix}SERVER__PORT": str(self.port)})
        env.update({self.prefix + key.upper(): str(value) for key, value in settings.items()})
        self.env = env
        self.log = (project / f"server-{self.port}.log").open("w+")
        command = [*wrapper, *docker_cmd(project)]
        self.process = subprocess.Popen(command, cwd=project, env=env, stdout=self.log, stderr=self.log)

    def run(self, command: list[str], **settings) -> subprocess.CompletedProcess:
        """A command in the server's environment (its venv, its settings, and these), as the container runs it."""
        env = {**self.env, **{self.prefix + key.upper(): str(value) for key, value in settings.items()}}
        return subprocess.run(command, cwd=self.project, env=env, capture_output=True, text=True, timeout=60)

    def wait_ready(self, seconds=60, headers=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited: {self.output()}"
            with contextlib.suppress(OSError):
                if request(self.port, "GET", "/ready", headers=headers, timeout=2)[0] == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(f"not ready after {seconds} s: {self.output()}")

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return {int(pid) for pid in children.split()}

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.log.close()


@pytest.fixture(scope="module")
def server(installed_project):
    """The default render's server with two workers, one per test module that asks for it."""
    running = Server(installed_project, server__workers=2).wait_ready()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def text_server(installed_text_project):
    running = Server(installed_text_project, server__workers=2).wait_ready()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def regression_server(installed_regression_project):
    running = Server(installed_regression_project, server__workers=2).wait_ready()
    yield running
    running.stop()


def missing_packages(item) -> list[str]:
    """The Debian packages a test is marked as needing (`needs(...)`) that this machine lacks."""
    needed = {tool for marker in item.iter_markers("needs") for tool in marker.args}
    return sorted(tool for tool in needed if not SYSTEM_TOOLS[tool].is_file())


def pytest_collection_modifyitems(items):
    """Tests that need a Debian package this machine lacks first, so that they fail in the first seconds (not
    after minutes of installs); then the quick ones; the slow ones (a generated suite or a server) last."""
    items.sort(key=lambda item: (not missing_packages(item), item.get_closest_marker("slow") is not None))


def pytest_runtest_setup(item):
    if missing := missing_packages(item):
        pytest.fail(f"missing: {', '.join(missing)}; install {how_to_install(missing)}", False)


def how_to_install(tools: list[str]) -> str:
    """Debian's packages by apt; kubectl as Kubernetes' own page says (Debian has none)."""
    debian = [tool for tool in tools if tool != "kubectl"]
    ways = [f"`sudo apt-get install {' '.join(debian)}`"] if debian else []
    if "kubectl" in tools:
        ways.append("kubectl as https://kubernetes.io/docs/tasks/tools/ says")
    return " and ".join(ways)


def pytest_terminal_summary(terminalreporter):
    """The files tests kept for people to look at (record_property("artifact", path)), named after the results."""
    artifacts = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in report.user_properties
        if name == "artifact"
    ]
    if artifacts:
        terminalreporter.write_sep("-", "kept for you to look at")
        for path in artifacts:
            terminalreporter.write_line(str(path))
