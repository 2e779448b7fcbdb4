"""Benchmark the generated service side by side with a bare Flask app, the seed's naive app and the servers
a user would pick instead (FastAPI, BentoML, MLServer, MLflow), and the text task's service side by side
with a naive text app.

    python benchmarks/run.py [--rounds N] [--duration S] [--cold-starts N] [--peers LIST] [--project DIR]
                             [--text-project DIR] [--smoke] [--output FILE]

`ours` runs as production starts it; `hello` and `bare-onnx` under the same server and settings; `naive`
under gunicorn's sync workers (the seed's pattern); each peer its own way, from a venv of its own, all
with 2 workers on 127.0.0.1. wrk loads one target at a time, and the targets alternate round by round in
a rotating order, so that machine noise falls on all of them alike. See benchmarks/README.md for what
each figure means. A missed target is reported, not fatal; the exit status is 1 only when a figure could
not be measured at all.
"""

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HELPERS = BENCH / "helpers"
DEFAULT_OUTPUT = BENCH / "results" / "latest.json"

SETOSA = [5.1, 3.5, 1.4, 0.2]
# The text task's render, and the text its README's curl example sends.
TEXT_ANSWERS = {"example_task": "text", "project_name": "Resume Screener"}
NURSE = "Registered nurse with six years in intensive care"
BATCH_ROWS = 1000
IN_APP_REQUESTS = 2000
WORKERS = 2
CONNECTIONS = 8
SERVER_START_SECONDS = 120
PEER_START_SECONDS = 240
STOP_SECONDS = 30
SLOW_STOP_SECONDS = 5
COLD_SETTLE_SECONDS = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# What the service's default config/config.yaml gives granian (src/<package>/server.py), so that hello and
# bare-onnx run under the same server and settings as ours once the render serves with granian: through the
# render's rsgi_bridge.py (apps/bridged.py).
GRANIAN_SETTINGS = [
    "--interface",
    "rsgi",
    "--factory",
    "--workers",
    WORKERS,
    "--backpressure",
    512,
    "--http1-header-read-timeout",
    10000,
    "--no-ws",
]
# The slow-client scenarios: while wrk loads a target, this many connections stay open, each idle, or
# sending its request's header, or its body after a whole header, one byte a second.
SLOW_CLIENTS = 64
SLOW_KINDS = ("idle", "slow-header", "slow-body")
SLOW_FILL_SECONDS = 5
# The peers, each in benchmarks/.venv-<venv> with these pins (plus the project's own scikit-learn, or for
# FastAPI its onnxruntime): made once, reused while the pins match.
PEERS = ("fastapi", "fastapi-rm", "bentoml", "mlserver", "mlflow")
PEER_VENV = {
    "fastapi": "fastapi",
    "fastapi-rm": "fastapi",
    "bentoml": "bentoml",
    "mlserver": "mlserver",
    "mlflow": "mlflow",
}
VENV_PINS = {
    "fastapi": ["fastapi==0.165.0", "uvicorn[standard]==0.55.0"],
    "bentoml": ["bentoml==1.4.40"],
    # uvloop 0.22 and later raise in MLServer 1.7.1's parallel workers (asyncio.get_event_loop() with no loop
    # set), which killed them while loading the model; with 0.21 `parallel_workers: 2` runs.
    "mlserver": ["mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"],
    # mlflow 3.18.0 needs an mlflow-tracing 3.18.0 that is not on PyPI (yet).
    "mlflow": ["mlflow==3.17.2"],
    # The naive apps' server: renders that serve with granian have no gunicorn in their venv.
    "gunicorn": ["gunicorn==27.0.1"],
}
VENV_RECORD = "benchmark-requirements.txt"
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "BENTOML_DO_NOT_TRACK": "true"}
# (name, comparison, target): the goals each ratio is marked against; None: for reference.
GOALS = [
    ("ours/fastapi single-row req/s", ">=", 1.0),
    ("ours/fastapi-rm single-row req/s", ">=", 1.25),
    ("ours/naive single-row req/s", ">=", 1.75),
    ("ours/hello single-row req/s", ">=", 0.75),
    ("ours/fastapi CPU ms/request", "<=", 1.0),
    ("ours/fastapi p99", "<=", 1.0),
    ("ours/naive PSS after load", "<=", 0.75),
    ("ours batch rows/s / in-process predict rows/s", ">=", 0.5),
    ("ours/import floor cold start", "<=", 1.3),
    ("ours/bentoml single-row req/s", None, None),
    ("ours/mlserver single-row req/s", None, None),
    ("ours/mlflow single-row req/s", None, None),
    ("naive/hello single-row req/s", None, None),
    ("bare-onnx/hello single-row req/s", None, None),
    ("ours/bare-onnx single-row req/s", None, None),
    ("ours-text/naive-text single-text req/s", None, None),
    ("ours/naive cold start", None, None),
    ("ours PSS 2 workers / 1 worker", None, None),
]

_started = time.monotonic()


class BenchmarkError(Exception):
    """A figure could not be measured."""


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:6.1f}s] {message}", flush=True)


# --- the project under test ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    root: Path
    package: str

    @property
    def bin(self) -> Path:
        return self.root / ".venv" / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def model(self) -> Path:
        return self.root / "models" / "model.skops"

    @property
    def onnx_model(self) -> Path:
        return self.model.with_suffix(".onnx")

    @property
    def serves_with_granian(self) -> bool:
        """Whether the render has granian as its server (src/<package>/server.py), started by `serve`."""
        return (self.root / "src" / self.package / "server.py").exists()

    def env(self, **settings) -> dict[str, str]:
        """The environment production runs in: its venv first on PATH, plus config overrides."""
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        env.update({f"{self.package.upper()}__{key.upper()}": str(value) for key, value in settings.items()})
        return env


def ours_command(project: Project) -> list:
    """How production starts the service, the one place that says it: `python -m <package> serve` (granian,
    settings from config/config.yaml) in renders that have server.py, `gunicorn -c gunicorn.conf.py` before."""
    if project.serves_with_granian:
        return [project.python, "-m", project.package, "serve"]
    return [project.bin / "gunicorn", "-c", "gunicorn.conf.py"]


def run_logged(command: list, log: Path, timeout: float, **options) -> str:
    """Run a command to completion; its output goes to `log`; a failure raises with the output's tail."""
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout, check=False, **options
    )
    with log.open("a") as file:
        file.write(f"$ {' '.join(str(part) for part in command)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise BenchmarkError(f"{command[0]} exited {result.returncode}: {(result.stdout + result.stderr)[-2000:]}")
    return result.stdout


def package_of(root: Path) -> str:
    packages = sorted(path.parent.name for path in (root / "src").glob("*/__init__.py"))
    if len(packages) != 1:
        raise BenchmarkError(f"{root}: expected one package under src/, found {packages}")
    return packages[0]


def render_and_install(into: Path, logs: Path, **answers: str) -> Project:
    from cookiecutter.main import cookiecutter  # only needed without --project or --text-project

    say(f"rendering the template into {into}, then make install (about a minute)")
    root = Path(cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(into)))
    project = Project(root, package_of(root))
    run_logged(["make", "install"], logs / "install.log", timeout=1200, cwd=root)
    run_logged([project.python, "-m", project.package, "train"], logs / "install.log", timeout=600, cwd=root)
    return project


def existing_project(root: Path) -> Project:
    project = Project(root.resolve(), package_of(root))
    server = project.bin / ("granian" if project.serves_with_granian else "gunicorn")
    for needed in (project.python, server, project.model):
        if not needed.exists():
            raise BenchmarkError(f"--project {root}: {needed} is missing (render, make install and train it first)")
    return project


def package_version(python: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout.strip() if result.returncode == 0 else ""


# --- server processes -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies, even by SIGKILL (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Server:
    """A server process in its own process group (so its workers stop with it), output to a log file."""

    name: str
    command: list
    cwd: Path
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> "Server":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(part) for part in self.command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # no other thread runs while servers start
            )
        return self

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM to the server's own process, which stops its workers; after STOP_SECONDS, SIGKILL to the group.

        Only the leader gets SIGTERM: a gunicorn worker signalled directly exits at once, its master
        boots a replacement before it handles its own SIGTERM, and then waits out the graceful timeout.
        """
        if self.process is None:
            return
        group, begun = self.process.pid, time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        while _group_exists(group) and time.monotonic() < begun + STOP_SECONDS:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=0.05)
        _signal_group(group, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)
        self.process = None
        if time.monotonic() - begun > SLOW_STOP_SECONDS:
            say(f"  note: {self.name} took {time.monotonic() - begun:.1f} s to stop after SIGTERM (see its log)")


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def _group_exists(group: int) -> bool:
    """Whether a live (not zombie) process is still in the group: /proc/<pid>/stat has state and pgrp."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            state, _parent, process_group = stat.read_text().rpartition(")")[2].split()[:3]
            if int(process_group) == group and state != "Z":
                return True
    return False


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server.start()
    finally:
        server.stop()


def http_answer(port: int, method: str, path: str, body: str | None = None, timeout: float = 10) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for_200(server: Server, method: str, path: str, body: str | None, seconds: float) -> None:
    """Poll until the server answers 200; raise if it exits, answers otherwise for too long, or times out."""
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        if server.process is None or server.process.poll() is not None:
            raise BenchmarkError(f"{server.name} exited before answering: {server.log_tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            status = http_answer(server.port, method, path, body)[0]
            if status == 200:
                return
        time.sleep(0.01)
    raise BenchmarkError(
        f"{server.name}: no 200 from {method} {path} in {seconds} s (last {status}): {server.log_tail()}"
    )


# --- a server's process tree -----------------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants, whichever of its threads forked them (uvicorn, circus, MLServer)."""
    children: list[str] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += (task / "children").read_text().split()
    return [pid, *(descendant for child in children for descendant in process_tree(int(child)))]


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU time the process tree has used so far (/proc/<pid>/stat fields 14 and 15)."""
    ticks = 0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise BenchmarkError(f"/proc/{pid}/smaps_rollup has no Pss line")


def tree_pss_kib(pid: int) -> int:
    """The proportional set size of the process tree: shared pages counted once, split among their sharers."""
    total = 0
    for member in process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += pss_kib(member)
    return total


# --- the targets --------------------------------------------------------------------------------------------------


def the_probabilities(answer: dict) -> list[float]:
    """The single row's class probabilities in the service's answer (also bare-onnx's, FastAPI's, BentoML's)."""
    return answer["probabilities"][0]


def v2_probabilities(answer: dict) -> list[float]:
    """The same in an answer of the v2 inference protocol (MLServer): its predict_proba output."""
    (output,) = [output for output in answer["outputs"] if output["name"] == "predict_proba"]
    return output["data"]


@dataclass
class Target:
    """An HTTP endpoint to load: where to send it, what body, and the process that answers."""

    name: str
    server: Server
    path: str
    body: str
    lua: Path | None = None
    start_seconds: float = SERVER_START_SECONDS
    # Reads the class probabilities from its answer, to check it serves the same model as ours; None: no check.
    probabilities: Callable[[dict], list[float]] | None = None


def flask_server(
    project: Project, name: str, module: str, logs: Path, seed_gunicorn: Path | None = None, **env
) -> Server:
    """An app of benchmarks/apps in the project venv, under the same server and settings as ours (granian's when
    the render has it, else gunicorn's sync workers); or, given seed_gunicorn (the site-packages of
    benchmarks/.venv-gunicorn), under that gunicorn's sync workers, as the seed serves, whatever the render has."""
    port = free_port()
    sync = ["-w", WORKERS, "-k", "sync", "-b", f"127.0.0.1:{port}", module]
    if seed_gunicorn is not None:
        command, env = [project.python, "-m", "gunicorn", *sync], {**env, "PYTHONPATH": str(seed_gunicorn)}
    elif project.serves_with_granian:
        address = ["--host", "127.0.0.1", "--port", port]
        command = [project.bin / "granian", *GRANIAN_SETTINGS, *address, "apps.bridged:serve"]
        env = {**env, "BRIDGED_APP": module.partition(":")[0], "BRIDGE_PACKAGE": project.package}
    else:
        command = [project.bin / "gunicorn", *sync]
    return Server(name, command, BENCH, {**project.env(), **env}, logs / f"{name}.log", port)


def ours_server(project: Project, name: str, logs: Path, workers: int = WORKERS) -> Server:
    """The generated service exactly as production starts it, in its folder, on a free port."""
    port = free_port()
    env = project.env(server__host="127.0.0.1", server__port=port, server__workers=workers)
    return Server(name, ours_command(project), project.root, env, logs / f"{name}.log", port)


def batch_rows() -> list[list[float]]:
    """1000 iris-like rows, the same every run."""
    generator = random.Random(1000)  # noqa: S311 -- test data, not a secret
    ranges = [(4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5)]
    return [[round(generator.uniform(low, high), 1) for low, high in ranges] for _ in range(BATCH_ROWS)]


def write_lua(path: Path, body: str) -> Path:
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n' + f"wrk.body = [==[{body}]==]\n"
    )
    return path


# --- the peers, each in a venv of its own --------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What the peers and the naive apps are made from: the project, the pickle of its fitted pipeline, where
    files and logs go, the project venv's scikit-learn and onnxruntime versions (which the peers' venvs pin),
    and the site-packages holding the naive apps' gunicorn."""

    project: Project
    pickle_path: Path
    workdir: Path
    logs: Path
    versions: dict[str, str]
    seed_gunicorn: Path


def peer_requirements(venv: str, versions: dict[str, str]) -> list[str]:
    """The venv's own pins, plus the project's runtime: onnxruntime for FastAPI, scikit-learn for the others
    (they load the pickle, which needs the scikit-learn version that made it)."""
    runtime = "onnxruntime" if venv == "fastapi" else "scikit-learn"
    return [*VENV_PINS[venv], f"{runtime}=={versions[runtime]}"]


def ensure_venv(venv: str, requirements: list[str], logs: Path) -> Path:
    """benchmarks/.venv-<venv> with these requirements: made once, reused while the record of them it keeps matches
    (delete the folder to rebuild it). Peers never go into the project venv: they pin other versions of its
    dependencies (MLServer an older FastAPI, MLflow an older gunicorn) and bring many more."""
    folder, wanted = BENCH / f".venv-{venv}", "\n".join(requirements) + "\n"
    record = folder / VENV_RECORD
    if record.exists() and record.read_text() == wanted:
        return folder
    say(f"installing {' '.join(requirements)} into {folder} (a few minutes, once)")
    log = logs / f"{venv}-install.log"
    if not (folder / "bin" / "python").exists():
        run_logged([sys.executable, "-m", "venv", folder], log, timeout=300)
    run_logged([folder / "bin" / "python", "-m", "pip", "install", *requirements], log, timeout=1800)
    record.write_text(wanted)
    return folder


def seed_gunicorn(logs: Path) -> Path:
    """The site-packages of benchmarks/.venv-gunicorn, which the naive apps' Python gets on its PYTHONPATH."""
    venv = ensure_venv("gunicorn", VENV_PINS["gunicorn"], logs)
    (site_packages,) = (venv / "lib").glob("python*/site-packages")
    return site_packages


def venv_env(venv: Path, **settings: str) -> dict[str, str]:
    """A peer's environment: its venv first on PATH, no telemetry, and its own settings."""
    return {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", **QUIET, **settings}


def peer_target(
    name: str,
    command: list,
    env: dict[str, str],
    setup: Setup,
    port: int,
    path: str,
    body: str,
    probabilities: Callable[[dict], list[float]] | None,
) -> Target:
    server = Server(name, command, BENCH, env, setup.logs / f"{name}.log", port)
    return Target(name, server, path, body, start_seconds=PEER_START_SECONDS, probabilities=probabilities)


def fastapi_target(name: str, setup: Setup, venv: Path) -> Target:
    """apps/fastapi_app.py under `uvicorn --workers 2`, with uvicorn's defaults (keep-alive, access log);
    fastapi-rm is the same app with a pydantic response_model."""
    port, app = free_port(), "app_with_response_model" if name == "fastapi-rm" else "app"
    command = [venv / "bin" / "uvicorn", "--workers", WORKERS, "--host", "127.0.0.1", "--port", port]
    command += ["--app-dir", BENCH, f"apps.fastapi_app:{app}"]
    env = venv_env(venv, FASTAPI_ONNX_PATH=str(setup.project.onnx_model))
    return peer_target(name, command, env, setup, port, "/predict", json.dumps({"features": SETOSA}), the_probabilities)


def bentoml_target(name: str, setup: Setup, venv: Path) -> Target:
    """apps/bentoml_service.py under `bentoml serve`, its 2 workers set in @bentoml.service."""
    port = free_port()
    command = [venv / "bin" / "bentoml", "serve", "apps.bentoml_service:Classifier", "--host", "127.0.0.1"]
    command += ["--port", port]
    env = venv_env(
        venv,
        BENTO_MODEL_PATH=str(setup.pickle_path),
        BENTO_WORKERS=str(WORKERS),
        BENTOML_HOME=str(setup.workdir / "bentoml-home"),  # its model store and logs, not under $HOME
    )
    return peer_target(name, command, env, setup, port, "/predict", json.dumps({"features": SETOSA}), the_probabilities)


def mlserver_target(name: str, setup: Setup, venv: Path) -> Target:
    """`mlserver start` on a model repository: settings.json (ports, `parallel_workers`) and the model's folder
    with model-settings.json (mlserver_sklearn, which joblib-loads the pickle). Asked through the v2 inference
    protocol for predict and predict_proba."""
    port, repository = free_port(), setup.workdir / "mlserver"
    (repository / "model").mkdir(parents=True)
    shutil.copy(setup.pickle_path, repository / "model" / "model.pkl")
    settings = {"host": "127.0.0.1", "http_port": port, "grpc_port": free_port(), "metrics_port": free_port()}
    (repository / "settings.json").write_text(json.dumps({**settings, "parallel_workers": WORKERS}))
    model = {"name": "model", "implementation": "mlserver_sklearn.SKLearnModel", "parameters": {"uri": "./model.pkl"}}
    (repository / "model" / "model-settings.json").write_text(json.dumps(model))
    row = {"name": "features", "shape": [1, len(SETOSA)], "datatype": "FP64", "data": SETOSA}
    body = json.dumps({"inputs": [row], "outputs": [{"name": "predict"}, {"name": "predict_proba"}]})
    command = [venv / "bin" / "mlserver", "start", repository]
    return peer_target(name, command, venv_env(venv), setup, port, "/v2/models/model/infer", body, v2_probabilities)


def mlflow_target(name: str, setup: Setup, venv: Path) -> Target:
    """`mlflow models serve -w 2` (uvicorn's workers) on the pipeline saved with mlflow.sklearn.save_model; its
    answer has the predictions only, so it is not checked against ours'."""
    model_dir, port = setup.workdir / "mlflow-model", free_port()
    save = [venv / "bin" / "python", HELPERS / "save_mlflow.py", setup.pickle_path, model_dir]
    run_logged(save, setup.logs / "mlflow-install.log", timeout=600, env=venv_env(venv))
    command = [venv / "bin" / "mlflow", "models", "serve", "-m", model_dir, "--env-manager", "local"]
    command += ["-w", WORKERS, "-h", "127.0.0.1", "-p", port]
    return peer_target(
        name, command, venv_env(venv), setup, port, "/invocations", json.dumps({"inputs": [SETOSA]}), None
    )


PEER_TARGETS = {
    "fastapi": fastapi_target,
    "fastapi-rm": fastapi_target,
    "bentoml": bentoml_target,
    "mlserver": mlserver_target,
    "mlflow": mlflow_target,
}


def peer_targets(names: list[str], setup: Setup, run: "Run") -> list[Target]:
    """Each chosen peer, its venv made or reused first; a peer that cannot be set up is noted and left out."""
    targets = []
    for name in names:
        try:
            requirements = peer_requirements(PEER_VENV[name], setup.versions)
            venv = ensure_venv(PEER_VENV[name], requirements, setup.logs)
            run.meta.setdefault("peer_requirements", {})[name] = requirements
            targets.append(PEER_TARGETS[name](name, setup, venv))
        except (BenchmarkError, subprocess.TimeoutExpired, OSError) as error:
            run.errors[name] = str(error)
            say(f"{name} could not be set up: {str(error)[:300]}")
    return targets


# --- wrk --------------------------------------------------------------------------------------------------------------

WRK_COLUMNS = "  req/s   p50 ms   p99 ms  non-2xx  sock err  CPU ms/req"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> dict:
    """wrk's figures; without a single response its latencies are none (wrk prints zeros then)."""

    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if not found:
            raise BenchmarkError(f"wrk output without {pattern!r}: {output[-1500:]}")
        return float(found.group(1))

    def latency(percent: str) -> float | None:
        found = re.search(rf"^\s*{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
        if not found:
            raise BenchmarkError(f"wrk output without the {percent}% latency: {output[-1500:]}")
        return float(found.group(1)) * UNITS_MS[found.group(2)] if requests else None

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(number(r"^\s*(\d+) requests in"))
    return {
        "requests_per_second": number(r"^Requests/sec:\s+([\d.]+)"),
        "requests": requests,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(value) for value in socket_errors.groups()) if socket_errors else 0,
    }


def run_wrk(target: Target, duration: int, close: bool = False, must_answer: bool = True) -> dict:
    """One wrk run, and the CPU time the server's process tree spent meanwhile, per request.

    close: every request says `Connection: close`, so each costs a new connection. must_answer: raise
    when no request succeeded (the slow-client scenarios leave that possible and report it)."""
    url = f"http://127.0.0.1:{target.server.port}{target.path}"
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(target.lua)]
    command += ["-H", "Connection: close"] if close else []
    cpu_before = tree_cpu_seconds(target.server.process.pid)
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=duration + 120, check=False)
    cpu_seconds = tree_cpu_seconds(target.server.process.pid) - cpu_before
    if result.returncode != 0:
        raise BenchmarkError(f"wrk against {target.name} exited {result.returncode}: {result.stderr[-1500:]}")
    figures = parse_wrk(result.stdout)
    if must_answer and figures["requests"] <= figures["non_2xx"] + figures["socket_errors"]:
        raise BenchmarkError(f"{target.name}: no successful response under load: {result.stdout[-1500:]}")
    figures["cpu_ms_per_request"] = cpu_seconds * 1000 / figures["requests"] if figures["requests"] else None
    return figures


# --- slow clients -----------------------------------------------------------------------------------------------------


def slow_request(kind: str, port: int) -> tuple[bytes, bytes]:
    """What a slow client sends at once, then what it sends one byte a second: nothing (idle), a request header
    that never ends (slow-header), or a whole header announcing a body that trickles in (slow-body)."""
    head = f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n".encode()
    endless = b"x" * 100_000
    return {
        "idle": (b"", b""),
        "slow-header": (b"", head + b"X-Slow: " + endless),
        "slow-body": (head + b"Content-Length: 100000\r\n\r\n", endless),
    }[kind]


@dataclass
class SlowClients:
    """`count` connections to a port held open by a thread while wrk loads it (a context manager). A connection
    the server answers or closes is counted as dropped and opened anew, so the server keeps facing `count`;
    one that cannot be opened is counted as failed."""

    port: int
    kind: str
    count: int
    dropped: int = 0
    failed: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _filled: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "SlowClients":
        self._thread = threading.Thread(target=self._hold, name=f"slow-{self.kind}", daemon=True)
        self._thread.start()
        self._filled.wait(SLOW_FILL_SECONDS)
        return self

    def __exit__(self, *_exception) -> None:
        self._stop.set()
        self._thread.join()

    def _hold(self) -> None:
        prefix, trickle = slow_request(self.kind, self.port)
        clients: dict[socket.socket, int] = {}  # each connection, and how much of the trickle it has sent
        try:
            while not self._stop.is_set():
                self._top_up(clients, prefix)
                self._filled.set()
                self._drop_answered(clients)
                for client, sent in list(clients.items()):
                    if trickle and self._sent(client, trickle[sent : sent + 1], clients):
                        clients[client] = sent + 1
                self._stop.wait(1)
        finally:
            for client in clients:
                client.close()

    def _top_up(self, clients: dict[socket.socket, int], prefix: bytes) -> None:
        while len(clients) < self.count and not self._stop.is_set():
            try:
                client = socket.create_connection(("127.0.0.1", self.port), timeout=1)
            except OSError:
                self.failed += 1
                return
            clients[client] = 0
            self._sent(client, prefix, clients)

    def _drop_answered(self, clients: dict[socket.socket, int]) -> None:
        readable, _, _ = select.select(list(clients), [], [], 0)
        for client in readable:
            self._drop(client, clients)

    def _sent(self, client: socket.socket, data: bytes, clients: dict[socket.socket, int]) -> bool:
        try:
            client.sendall(data)
        except OSError:
            self._drop(client, clients)
            return False
        return True

    def _drop(self, client: socket.socket, clients: dict[socket.socket, int]) -> None:
        client.close()
        del clients[client]
        self.dropped += 1


def run_with_slow_clients(target: Target, kind: str, duration: int) -> dict:
    """The single-row wrk run while SLOW_CLIENTS connections of this kind are held open on the same server."""
    with SlowClients(target.server.port, kind, SLOW_CLIENTS) as held:
        figures = run_wrk(target, duration, must_answer=False)
    return {**figures, "slow_clients_dropped": held.dropped, "slow_clients_failed": held.failed}


# --- measurements ----------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything one benchmark run learns: the figures, per round, and what could not be measured."""

    rounds: dict[str, list] = field(default_factory=dict)
    single_row: list[str] = field(default_factory=list)  # the single-row targets that started
    pss_after_load: dict[str, int] = field(default_factory=dict)
    cold_start: dict[str, list[float]] = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    in_app: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


def rotated(names: list[str], by: int) -> list[str]:
    by %= max(len(names), 1)
    return names[by:] + names[:by]


def measure_rounds(jobs: dict[str, Callable[[], object]], rounds: int, run: Run) -> None:
    """Each round runs every job once, in an order rotated by one each round; a failing job is dropped."""
    names = list(jobs)
    for name in names:
        run.rounds.setdefault(name, [])
    for index in range(rounds):
        order = [name for name in rotated(names, index) if name not in run.errors]
        say(f"round {index + 1}/{rounds}: {len(order)} runs, from {order[0] if order else '-'}")
        for name in order:
            try:
                run.rounds[name].append(jobs[name]())
            except (BenchmarkError, subprocess.TimeoutExpired) as error:
                run.errors[name] = str(error)
                say(f"  {name} failed: {str(error)[:300]}")


def in_process_predict(project: Project, rows_file: Path, seconds: float) -> dict:
    script = HELPERS / "time_predict.py"
    command = [project.python, script, project.model, rows_file, seconds]
    output = run_logged(command, rows_file.parent / "in-process.log", timeout=300)
    figures = json.loads(output.splitlines()[-1])
    figures["rows_per_second"] = figures["rows"] / figures["median_seconds"]
    return figures


def measure_in_app(project: Project, requests: int, logs: Path, run: Run) -> None:
    """Microseconds of each app's own work per single-row request: the WSGI call alone, no HTTP, no wrk."""
    command = [project.python, HELPERS / "time_wsgi.py", project.package, str(requests)]
    env = {**project.env(), "PYTHONPATH": str(BENCH), "BARE_ONNX_PATH": str(project.onnx_model)}
    try:
        output = run_logged(command, logs / "in-app.log", timeout=300, cwd=project.root, env=env)
        run.in_app = json.loads(output.splitlines()[-1])
    except (BenchmarkError, subprocess.TimeoutExpired, ValueError, IndexError) as error:
        run.errors["in-app"] = str(error)


def start_targets(targets: list[Target], run: Run) -> list[Target]:
    """Start every server, wait until it answers its own request with 200; keep those that do."""
    for target in targets:
        target.server.start()
    started = []
    for target in targets:
        try:
            wait_for_200(target.server, "POST", target.path, target.body, target.start_seconds)
            started.append(target)
        except BenchmarkError as error:
            run.errors[target.name] = str(error)
            say(f"{target.name} did not start: {str(error)[:300]}")
            target.server.stop()
    return started


def check_answers(targets: list[Target], run: Run) -> None:
    """Note, as an error, a target whose probabilities for the single row are not ours': every target is to
    serve the same fitted model, or its figures would compare different work. Each one's go in the JSON."""
    answers = {}
    for target in targets:
        if target.probabilities is not None:
            status, body = http_answer(target.server.port, "POST", target.path, target.body)
            answers[target.name] = target.probabilities(json.loads(body)) if status == 200 else None
    run.meta["single_row_probabilities"] = answers
    if answers.get("ours") is None:
        return
    for name, probabilities in answers.items():
        if probabilities is None or any(
            abs(theirs - ours) > 1e-6 for theirs, ours in zip(probabilities, answers["ours"], strict=True)
        ):
            run.errors[f"{name} answer"] = f"{name} answers {probabilities}, ours {answers['ours']}"


def cold_start_seconds(target: Target) -> float:
    """Seconds from spawning the target's server to its first 200 to its own single-row request.

    The server then runs COLD_SETTLE_SECONDS more before its SIGTERM, unmeasured: granian 2.8's main process,
    told to stop while a worker is still starting, waits for it forever (here: until SIGKILL, 30 s later)."""
    begun = time.perf_counter()
    with running(target.server):
        wait_for_200(target.server, "POST", target.path, target.body, target.start_seconds)
        seconds = time.perf_counter() - begun
        time.sleep(COLD_SETTLE_SECONDS)
    return seconds


def import_floor_seconds(project: Project) -> float:
    """Seconds from spawning the project's Python to its exit after importing Flask and scikit-learn."""
    begun = time.perf_counter()
    command = [str(project.python), "-c", "import flask, sklearn"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=project.env(), check=False)
    seconds = time.perf_counter() - begun
    if result.returncode != 0:
        raise BenchmarkError(f"the import floor exited {result.returncode}: {result.stderr[-1000:]}")
    return seconds


def measure_cold_starts(project: Project, targets: list[Target], runs: int, run: Run) -> None:
    """Cold starts of every single-row target that ran under load (stopped by then), and the import floor."""
    jobs: dict[str, Callable[[], object]] = {
        target.name: (lambda t=target: cold_start_seconds(t)) for target in targets
    }
    jobs["import_floor"] = lambda: import_floor_seconds(project)
    rounds = Run()
    measure_rounds(jobs, runs, rounds)
    run.cold_start = rounds.rounds
    run.errors.update({f"cold start {name}": error for name, error in rounds.errors.items()})


def memory_of(project: Project, workers: int, warm: list[Target], logs: Path) -> dict:
    """PSS of the service's process tree, after a second of single-row and batch load."""
    server = ours_server(project, f"ours-memory-{workers}", logs, workers=workers)
    with running(server):
        wait_for_200(server, "GET", "/ready", None, SERVER_START_SECONDS)
        for target in warm:
            run_wrk(Target(target.name, server, target.path, target.body, target.lua), 1)
        time.sleep(0.5)
        return {
            "workers": workers,
            "pss_kib": tree_pss_kib(server.process.pid),
            "processes": len(process_tree(server.process.pid)),
        }


def measure_memory(project: Project, warm: list[Target], logs: Path, run: Run) -> None:
    try:
        run.memory = {str(workers): memory_of(project, workers, warm, logs) for workers in (1, WORKERS)}
    except (BenchmarkError, OSError, subprocess.TimeoutExpired) as error:
        run.errors["memory"] = str(error)


def export_pickle(project: Project, pickle_path: Path, logs: Path) -> str:
    """Pickle the project's fitted pipeline for a naive app; returns the scikit-learn version that loaded it."""
    output = run_logged(
        [project.python, HELPERS / "export_pickle.py", project.model, pickle_path], logs / "setup.log", 120
    )
    return json.loads(output.splitlines()[-1])["sklearn"]


# --- summary ----------------------------------------------------------------------------------------------------------


def values_of(rounds: list[dict], key: str) -> list:
    return [figures[key] for figures in rounds]


def median_of(rounds: list[dict], key: str) -> float | None:
    values = [value for value in values_of(rounds, key) if value is not None]
    return statistics.median(values) if values else None


def summarize_wrk(rounds: list[dict]) -> dict:
    summary = {key: median_of(rounds, key) for key in ("requests_per_second", "p50_ms", "p99_ms", "cpu_ms_per_request")}
    summary.update({key: sum(values_of(rounds, key)) for key in ("non_2xx", "socket_errors", "requests")})
    slow = ("slow_clients_dropped", "slow_clients_failed")
    summary.update({key: sum(values_of(rounds, key)) for key in slow if rounds and key in rounds[0]})
    return {**summary, "rounds": rounds}


def paired_ratio(numerators: list[float | None], denominators: list[float | None]) -> float | None:
    """The median over rounds of the round-by-round ratio (both measured in the same round)."""
    ratios = [top / bottom for top, bottom in zip(numerators, denominators, strict=False) if bottom and top is not None]
    return statistics.median(ratios) if ratios else None


def per_round(run: Run, name: str, key: str = "requests_per_second") -> list:
    return values_of(run.rounds.get(name, []), key)


def batch_summary(run: Run) -> dict:
    served = [rate * BATCH_ROWS for rate in per_round(run, "ours-batch")]
    local = per_round(run, "in-process", "rows_per_second")
    return {
        "rows": BATCH_ROWS,
        "ours_rows_per_second": statistics.median(served) if served else None,
        "in_process_rows_per_second": statistics.median(local) if local else None,
        "in_process_best_rows_per_second": max(
            (BATCH_ROWS / seconds for seconds in per_round(run, "in-process", "best_seconds")), default=None
        ),
        "ratio": paired_ratio(served, local),
        "ours_request": summarize_wrk(run.rounds.get("ours-batch", [])),
        "in_process_rounds": run.rounds.get("in-process", []),
    }


def cold_start_summary(run: Run) -> dict:
    summary = {f"{name}_seconds": statistics.median(values) for name, values in run.cold_start.items() if values}
    return {**summary, "runs": run.cold_start}


def ratios(run: Run, batch: dict) -> dict[str, float | None]:
    cold, pss = run.cold_start, run.pss_after_load
    workers_pss = {workers: figures["pss_kib"] for workers, figures in run.memory.items()}

    def rate(top: str, bottom: str) -> float | None:
        return paired_ratio(per_round(run, top), per_round(run, bottom))

    return {
        "ours/fastapi single-row req/s": rate("ours", "fastapi"),
        "ours/fastapi-rm single-row req/s": rate("ours", "fastapi-rm"),
        "ours/naive single-row req/s": rate("ours", "naive"),
        "ours/hello single-row req/s": rate("ours", "hello"),
        "ours/fastapi CPU ms/request": paired_ratio(
            per_round(run, "ours", "cpu_ms_per_request"), per_round(run, "fastapi", "cpu_ms_per_request")
        ),
        "ours/fastapi p99": paired_ratio(per_round(run, "ours", "p99_ms"), per_round(run, "fastapi", "p99_ms")),
        "ours/naive PSS after load": pss["ours"] / pss["naive"] if "ours" in pss and pss.get("naive") else None,
        "ours batch rows/s / in-process predict rows/s": batch["ratio"],
        "ours/import floor cold start": paired_ratio(cold.get("ours", []), cold.get("import_floor", [])),
        "ours/bentoml single-row req/s": rate("ours", "bentoml"),
        "ours/mlserver single-row req/s": rate("ours", "mlserver"),
        "ours/mlflow single-row req/s": rate("ours", "mlflow"),
        "naive/hello single-row req/s": rate("naive", "hello"),
        "bare-onnx/hello single-row req/s": rate("bare-onnx", "hello"),
        "ours/bare-onnx single-row req/s": rate("ours", "bare-onnx"),
        "ours-text/naive-text single-text req/s": rate("ours-text", "naive-text"),
        "ours/naive cold start": paired_ratio(cold.get("ours", []), cold.get("naive", [])),
        "ours PSS 2 workers / 1 worker": (
            workers_pss[str(WORKERS)] / workers_pss["1"] if len(workers_pss) == 2 else None
        ),
    }


def judged(values: dict[str, float | None], left_out: list[str]) -> list[dict]:
    """Each goal's verdict; one comparing ours with a peer left out (--peers) is "skipped"."""
    rows = []
    for name, comparison, goal in GOALS:
        value = values[name]
        if comparison is None:
            verdict = "info"
        elif value is None:
            verdict = "skipped" if any(name.startswith(f"ours/{peer} ") for peer in left_out) else "not measured"
        else:
            verdict = "met" if (value >= goal if comparison == ">=" else value <= goal) else "missed"
        rows.append({"name": name, "value": value, "comparison": comparison, "target": goal, "verdict": verdict})
    return rows


def summarize(run: Run, peers: list[str]) -> dict:
    single = {
        name: {**summarize_wrk(run.rounds[name]), "pss_kib_after_load": run.pss_after_load.get(name)}
        for name in [*run.single_row, "naive-text", "ours-text"]
        if name in run.rounds
    }
    scenarios = {
        scenario: {
            name: summarize_wrk(run.rounds[f"{name} {scenario}"])
            for name in run.single_row
            if f"{name} {scenario}" in run.rounds
        }
        for scenario in ("close", *SLOW_KINDS)
    }
    batch = batch_summary(run)
    return {
        "meta": run.meta,
        "single_row": single,
        "connection_close": scenarios.pop("close"),
        "slow_clients": scenarios,
        "batch": batch,
        "cold_start": cold_start_summary(run),
        "memory": run.memory,
        "in_app_microseconds": run.in_app,
        "ratios": judged(ratios(run, batch), [peer for peer in PEERS if peer not in peers]),
        "errors": run.errors,
    }


def fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    """The value in the pattern, or "-" as wide as the pattern's field when there is none."""
    width = re.match(r"\{:>?(\d*)", pattern).group(1)
    return ("-" if value is None else pattern.format(value)).rjust(int(width or 0))


def print_report(report: dict) -> None:
    single, cold = report["single_row"], report["cold_start"]
    print(f"\n{'target (single row unless said)':<30}{WRK_COLUMNS}  PSS MiB  cold s")
    rows = [*single.items(), ("ours, 1000-row batch", report["batch"]["ours_request"])]
    for name, figures in rows:
        pss = figures.get("pss_kib_after_load")
        print(
            f"{wrk_row(name, figures)}{fmt(figures['cpu_ms_per_request'], '{:>12.3f}')}"
            f"{fmt(pss / 1024 if pss else None, '{:>9.1f}')}{fmt(cold.get(f'{name}_seconds'), '{:>8.2f}')}"
        )
    scenarios = {"Connection: close": report["connection_close"]}
    scenarios.update(
        {f"{SLOW_CLIENTS} {kind} clients held open": rows for kind, rows in report["slow_clients"].items()}
    )
    for title, rows in scenarios.items():
        print(f"\n{title:<30}{WRK_COLUMNS}  slow dropped")
        for name, figures in rows.items():
            print(
                f"{wrk_row(name, figures)}{fmt(figures['cpu_ms_per_request'], '{:>12.3f}')}"
                f"{fmt(figures.get('slow_clients_dropped'), '{:>14}')}"
            )
    print_figures(report)
    print(f"\n{'ratio':<48}{'value':>8}   {'target':<8}  verdict")
    for row in report["ratios"]:
        goal = f"{row['comparison']} {row['target']}" if row["comparison"] else ""
        print(f"{row['name']:<48}{fmt(row['value'], '{:>8.3f}')}   {goal:<8}  {row['verdict']}")
    for name, error in report["errors"].items():
        print(f"\nNOT MEASURED {name}: {error[:500]}")


def wrk_row(name: str, figures: dict) -> str:
    return (
        f"{name:<30}{fmt(figures['requests_per_second'], '{:>7.0f}')}{fmt(figures['p50_ms'], '{:>9.2f}')}"
        f"{fmt(figures['p99_ms'], '{:>9.2f}')}{figures['non_2xx']:>9}{figures['socket_errors']:>10}"
    )


def print_figures(report: dict) -> None:
    batch, cold, memory = report["batch"], report["cold_start"], report["memory"]
    print(
        f"\nbatch: ours {fmt(batch['ours_rows_per_second'], '{:,.0f}')} rows/s, in-process predict "
        f"{fmt(batch['in_process_rows_per_second'], '{:,.0f}')} rows/s (median; best "
        f"{fmt(batch['in_process_best_rows_per_second'], '{:,.0f}')})"
    )
    print(f"cold start (median): import floor {fmt(cold.get('import_floor_seconds'), '{:.2f} s')}; targets above")
    in_app = ", ".join(f"{name} {microseconds:.0f}" for name, microseconds in report["in_app_microseconds"].items())
    print(f"in-app time per single-row request (WSGI call alone, µs): {in_app or '-'}")
    pss = {workers: figures["pss_kib"] / 1024 for workers, figures in memory.items()}
    print(f"ours' memory (PSS, whole process tree): 1 worker {fmt(pss.get('1'), '{:.1f} MiB')}, ", end="")
    print(f"{WORKERS} workers {fmt(pss.get(str(WORKERS)), '{:.1f} MiB')}")


# --- the whole run ----------------------------------------------------------------------------------------------------


def peer_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown peers {unknown}; choose from {','.join(PEERS)}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the load tests (%(default)s)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run (%(default)s)")
    parser.add_argument("--cold-starts", type=int, default=5, help="cold starts of each kind (%(default)s)")
    parser.add_argument(
        "--peers",
        type=peer_list,
        default=list(PEERS),
        help=f"peers to run, comma-separated ({','.join(PEERS)}; '' for none)",
    )
    parser.add_argument("--project", type=Path, help="a rendered, installed and trained project to use")
    parser.add_argument("--text-project", type=Path, help="the same, rendered with example_task=text")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON figures (%(default)s)")
    parser.add_argument(
        "--smoke", action="store_true", help="1 round of 1 s, no peers, 1 cold start, no warm-up, few in-app calls"
    )
    args = parser.parse_args(argv)
    # Every phase runs, each as briefly as it can: the smoke run checks that every figure is measured, not its value.
    args.warm_up, args.in_app_requests = not args.smoke, IN_APP_REQUESTS // 10 if args.smoke else IN_APP_REQUESTS
    if args.smoke:
        args.rounds, args.duration, args.cold_starts, args.peers = 1, 1, 1, []
    if min(args.rounds, args.duration, args.cold_starts) < 1:
        parser.error("--rounds, --duration and --cold-starts must be at least 1")
    return args


def describe_machine(args: argparse.Namespace, project: Project, text_project: Project) -> dict:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "project": str(project.root),
        "text_project": str(text_project.root),
        "ours_command": " ".join(str(part) for part in ours_command(project)),
        "hello_and_bare_onnx_server": "granian" if project.serves_with_granian else "gunicorn sync",
        "peers": args.peers,
        "mlserver_parallel_workers": WORKERS,
        "rounds": args.rounds,
        "duration_seconds": args.duration,
        "cold_starts": args.cold_starts,
        "wrk": f"wrk -t1 -c{CONNECTIONS} -d{args.duration}s --latency",
        "slow_clients": SLOW_CLIENTS,
        "workers": WORKERS,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "template_commit": commit.stdout.strip(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def build_targets(setup: Setup, text: tuple[Project, Path], peers: list[Target]) -> tuple[list, list, Target]:
    """The single-row targets (ours, the Flask apps, the peers), the text task's, and ours' batch."""
    project, logs, single = setup.project, setup.logs, json.dumps({"features": SETOSA})
    text_project, text_pickle = text
    one_text = json.dumps({"text": NURSE})

    def app(on: Project, name: str, module: str, body: str, seed: Path | None = None, **env: str) -> Target:
        server = flask_server(on, name, f"apps.{module}:app", logs, seed, **env)
        return Target(
            name, server, "/predict", body, probabilities=the_probabilities if module == "bare_onnx" else None
        )

    ours = Target("ours", ours_server(project, "ours", logs), "/predict", single, probabilities=the_probabilities)
    singles = [
        app(project, "hello", "hello", single),
        app(project, "naive", "naive", single, setup.seed_gunicorn, NAIVE_MODEL_PATH=str(setup.pickle_path)),
        ours,
        app(project, "bare-onnx", "bare_onnx", single, BARE_ONNX_PATH=str(project.onnx_model)),
        *peers,
    ]
    texts = [
        app(text_project, "naive-text", "naive_text", one_text, setup.seed_gunicorn, NAIVE_MODEL_PATH=str(text_pickle)),
        Target("ours-text", ours_server(text_project, "ours-text", logs), "/predict", one_text),
    ]
    batch = Target("ours-batch", ours.server, "/predict", json.dumps({"instances": batch_rows()}))
    for target in [*singles, *texts, batch]:
        target.lua = write_lua(setup.workdir / f"{target.name}.lua", target.body)
    (setup.workdir / "rows.json").write_text(json.dumps(batch_rows()))
    return singles, texts, batch


def round_jobs(singles: list[Target], texts: list[Target], batch: list[Target], args, setup: Setup) -> dict:
    """Every wrk run of a round: each target's load, and each single-row target's under Connection: close and
    with each kind of slow client; ours' batch, and the in-process predict it is compared with."""
    duration = args.duration
    jobs: dict[str, Callable[[], object]] = {t.name: (lambda t=t: run_wrk(t, duration)) for t in [*singles, *texts]}
    for target in singles:
        jobs[f"{target.name} close"] = lambda t=target: run_wrk(t, duration, close=True)
        for kind in SLOW_KINDS:
            jobs[f"{target.name} {kind}"] = lambda t=target, k=kind: run_with_slow_clients(t, k, duration)
    jobs.update({target.name: (lambda t=target: run_wrk(t, duration)) for target in batch})
    rows = setup.workdir / "rows.json"
    jobs["in-process"] = lambda: in_process_predict(setup.project, rows, min(duration, 2))
    return jobs


def load_tests(args, setup: Setup, text: tuple[Project, Path], run: Run, stack) -> tuple[list, list]:
    """Start the servers, check their answers, warm them, run the rounds, measure their memory, stop them
    (`stack` stops them on errors too).

    Returns ours' single-row and batch targets (to warm it before measuring its memory by worker count) and
    the single-row targets that ran (for their cold starts)."""
    peers = peer_targets(args.peers, setup, run)
    singles, texts, batch = build_targets(setup, text, peers)
    targets = [*singles, *texts]
    for target in targets:
        stack.callback(target.server.stop)
    say(f"starting {', '.join(target.name for target in targets)}")
    started = start_targets(targets, run)
    started_singles = [target for target in started if target in singles]
    run.single_row = [target.name for target in started_singles]
    if "ours" in run.single_row:
        check_answers(started_singles, run)
    ours_batch = [batch] if "ours" in run.single_row else []
    loaded = [*started, *ours_batch]
    if args.warm_up:
        say("warming up (1 s of load each)")
        for target in loaded:
            with contextlib.suppress(BenchmarkError):
                run_wrk(target, 1)
    jobs = round_jobs(started_singles, [target for target in started if target in texts], ours_batch, args, setup)
    measure_rounds(jobs, args.rounds, run)
    run.pss_after_load = {
        target.name: tree_pss_kib(target.server.process.pid)
        for target in started
        if target.server.process.poll() is None
    }
    for target in targets:
        target.server.stop()
    return [target for target in loaded if target.name in ("ours", "ours-batch")], started_singles


def logs_folder(output: Path) -> Path:
    """Every server's and installer's output, beside the figures: results/latest-logs/ for results/latest.json."""
    return output.resolve().with_name(f"{output.stem}-logs")


def benchmark(args: argparse.Namespace, run: Run) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="flask-ml-bench-"))
    logs = logs_folder(args.output)
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        project = existing_project(args.project) if args.project else render_and_install(workdir / "render", logs)
        text_project = (
            existing_project(args.text_project)
            if args.text_project
            else render_and_install(workdir / "render-text", logs, **TEXT_ANSWERS)
        )
        run.meta.update(describe_machine(args, project, text_project))
        pickle_path, text_pickle = workdir / "model.pkl", workdir / "text-model.pkl"
        run.meta["scikit_learn"] = export_pickle(project, pickle_path, logs)
        run.meta["onnxruntime"] = package_version(project.python, "onnxruntime")
        export_pickle(text_project, text_pickle, logs)
        versions = {"scikit-learn": run.meta["scikit_learn"], "onnxruntime": run.meta["onnxruntime"]}
        setup = Setup(project, pickle_path, workdir, logs, versions, seed_gunicorn(logs))
        warm, singles = load_tests(args, setup, (text_project, text_pickle), run, stack)
        say("in-app time per request: hello, bare-onnx and ours called as WSGI apps")
        measure_in_app(project, args.in_app_requests, logs, run)
        say(f"cold starts: {args.cold_starts} of each")
        measure_cold_starts(project, singles, args.cold_starts, run)
        say("memory: ours' PSS with 1 and with 2 workers")
        measure_memory(project, warm, logs, run)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    if shutil.which("wrk") is None:
        print("wrk is not on PATH (apt-get install wrk)", file=sys.stderr)
        return 2
    run = Run()
    try:
        benchmark(args, run)
    except (BenchmarkError, subprocess.TimeoutExpired, OSError) as error:
        run.errors["benchmark"] = str(error)
    run.meta["elapsed_seconds"] = round(time.monotonic() - _started, 1)
    report = summarize(run, args.peers)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"\nfigures: {args.output}   logs: {logs_folder(args.output)}   took {run.meta['elapsed_seconds']} s")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
