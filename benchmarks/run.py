"""Benchmark the generated service side by side with a bare Flask app, the seed's naive app and MLflow,
and the text task's service side by side with a naive text app.

    python benchmarks/run.py [--rounds N] [--duration S] [--skip-mlflow] [--project DIR] [--text-project DIR]
                             [--smoke] [--output FILE]

Every HTTP target runs behind the same gunicorn settings (2 sync workers on 127.0.0.1), except MLflow,
which serves its own way (`mlflow models serve -w 2`). wrk loads one target at a time, and the targets
alternate round by round in a rotating order, so that machine noise falls on all of them alike.
See benchmarks/README.md for what each figure means. A missed target is reported, not fatal; the exit
status is 1 only when a figure could not be measured at all.
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
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HELPERS = BENCH / "helpers"
MLFLOW_VENV = BENCH / ".venv-mlflow"
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
MLFLOW_START_SECONDS = 240
STOP_SECONDS = 30
SLOW_STOP_SECONDS = 5
MLFLOW_QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
# (name, comparison, target): the goals each ratio is marked against.
GOALS = [
    ("ours/hello single-row req/s", ">=", 0.85),
    ("ours/naive single-row req/s", ">=", 1.2),
    ("ours/mlflow single-row req/s", ">=", 15.0),
    ("naive/hello single-row req/s", None, None),
    ("bare-onnx/hello single-row req/s", None, None),
    ("ours/bare-onnx single-row req/s", None, None),
    ("ours-text/naive-text single-text req/s", None, None),
    ("ours batch rows/s / in-process predict rows/s", ">=", 0.5),
    ("ours/naive cold start", "<=", 1.0),
    ("ours/import floor cold start", "<=", 1.3),
    ("ours PSS 2 workers / 1 worker", "<=", 1.3),
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

    def env(self, **settings) -> dict[str, str]:
        """The environment production runs in: its venv first on PATH, plus config overrides."""
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}"}
        env.update({f"{self.package.upper()}__{key.upper()}": str(value) for key, value in settings.items()})
        return env


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
    for needed in (project.python, project.bin / "gunicorn", project.model):
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


def http_status(port: int, method: str, path: str, body: str | None = None, timeout: float = 10) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
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
            status = http_status(server.port, method, path, body)
            if status == 200:
                return
        time.sleep(0.01)
    raise BenchmarkError(
        f"{server.name}: no 200 from {method} {path} in {seconds} s (last {status}): {server.log_tail()}"
    )


# --- the targets --------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """An HTTP endpoint to load: where to send it, what body, and the process that answers."""

    name: str
    server: Server
    path: str
    body: str
    lua: Path | None = None


def gunicorn_app(project: Project, name: str, module: str, logs: Path, **env) -> Server:
    """hello or naive: the project venv's gunicorn, with the service's worker settings."""
    port = free_port()
    command = [
        project.bin / "gunicorn",
        "-w",
        WORKERS,
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        BENCH,
        module,
    ]
    return Server(name, command, BENCH, {**project.env(), **env}, logs / f"{name}.log", port)


def ours_server(project: Project, name: str, logs: Path, workers: int = WORKERS) -> Server:
    """The generated service exactly as production starts it: `gunicorn -c gunicorn.conf.py` in its folder."""
    port = free_port()
    env = project.env(server__host="127.0.0.1", server__port=port, server__workers=workers)
    return Server(name, ["gunicorn", "-c", "gunicorn.conf.py"], project.root, env, logs / f"{name}.log", port)


def mlflow_server(model_dir: Path, logs: Path) -> Server:
    """MLflow's own scoring server, from its own venv, on the same fitted pipeline."""
    port = free_port()
    env = {**os.environ, "PATH": f"{MLFLOW_VENV / 'bin'}:{os.environ['PATH']}", **MLFLOW_QUIET}
    command = [MLFLOW_VENV / "bin" / "mlflow", "models", "serve", "-m", model_dir, "--env-manager", "local"]
    command += ["-w", WORKERS, "-h", "127.0.0.1", "-p", port]
    return Server("mlflow", command, model_dir.parent, env, logs / "mlflow.log", port)


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


# --- wrk --------------------------------------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> dict:
    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if not found:
            raise BenchmarkError(f"wrk output without {pattern!r}: {output[-1500:]}")
        return float(found.group(1))

    def latency(percent: str) -> float:
        found = re.search(rf"^\s*{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
        if not found:
            raise BenchmarkError(f"wrk output without the {percent}% latency: {output[-1500:]}")
        return float(found.group(1)) * UNITS_MS[found.group(2)]

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_second": number(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"^\s*(\d+) requests in")),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(value) for value in socket_errors.groups()) if socket_errors else 0,
    }


def run_wrk(target: Target, duration: int) -> dict:
    url = f"http://127.0.0.1:{target.server.port}{target.path}"
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", "-s", str(target.lua), url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=False)
    if result.returncode != 0:
        raise BenchmarkError(f"wrk against {target.name} exited {result.returncode}: {result.stderr[-1500:]}")
    figures = parse_wrk(result.stdout)
    if figures["requests"] <= figures["non_2xx"] + figures["socket_errors"]:
        raise BenchmarkError(f"{target.name}: no successful response under load: {result.stdout[-1500:]}")
    return figures


# --- measurements ----------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """Everything one benchmark run learns: the figures, per round, and what could not be measured."""

    rounds: dict[str, list] = field(default_factory=dict)
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
        say(f"round {index + 1}/{rounds}: {', '.join(order)}")
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


def measure_in_app(project: Project, logs: Path, run: Run) -> None:
    """Microseconds of each app's own work per single-row request: the WSGI call alone, no HTTP, no wrk."""
    command = [project.python, HELPERS / "time_wsgi.py", project.package, IN_APP_REQUESTS]
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
        seconds = MLFLOW_START_SECONDS if target.name == "mlflow" else SERVER_START_SECONDS
        try:
            wait_for_200(target.server, "POST", target.path, target.body, seconds)
            started.append(target)
        except BenchmarkError as error:
            run.errors[target.name] = str(error)
            say(f"{target.name} did not start: {str(error)[:300]}")
            target.server.stop()
    return started


def cold_start_seconds(server: Server, method: str, path: str, body: str | None) -> float:
    """Seconds from spawning the server to its first 200."""
    begun = time.perf_counter()
    with running(server):
        wait_for_200(server, method, path, body, SERVER_START_SECONDS)
        return time.perf_counter() - begun


def import_floor_seconds(project: Project) -> float:
    """Seconds from spawning the project's Python to its exit after importing Flask and scikit-learn."""
    begun = time.perf_counter()
    command = [str(project.python), "-c", "import flask, sklearn"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=project.env(), check=False)
    seconds = time.perf_counter() - begun
    if result.returncode != 0:
        raise BenchmarkError(f"the import floor exited {result.returncode}: {result.stderr[-1000:]}")
    return seconds


def measure_cold_starts(project: Project, pickle_path: Path, logs: Path, runs: int, run: Run) -> None:
    single = json.dumps({"features": SETOSA})
    jobs = {
        "ours": lambda: cold_start_seconds(ours_server(project, "ours-cold", logs), "GET", "/ready", None),
        "naive": lambda: cold_start_seconds(
            gunicorn_app(project, "naive-cold", "apps.naive:app", logs, NAIVE_MODEL_PATH=str(pickle_path)),
            "POST",
            "/predict",
            single,
        ),
        "import_floor": lambda: import_floor_seconds(project),
    }
    rounds = Run()
    measure_rounds(jobs, runs, rounds)
    run.cold_start = rounds.rounds
    run.errors.update({f"cold start {name}": error for name, error in rounds.errors.items()})


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(descendant for child in children for descendant in process_tree(int(child)))]


def pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    raise BenchmarkError(f"/proc/{pid}/smaps_rollup has no Pss line")


def memory_of(project: Project, workers: int, warm: list[Target], logs: Path) -> dict:
    """PSS of the service's master and workers, after a second of single-row and batch load."""
    server = ours_server(project, f"ours-memory-{workers}", logs, workers=workers)
    with running(server):
        wait_for_200(server, "GET", "/ready", None, SERVER_START_SECONDS)
        for target in warm:
            run_wrk(Target(target.name, server, target.path, target.body, target.lua), 1)
        time.sleep(0.5)
        processes = {pid: pss_kib(pid) for pid in process_tree(server.process.pid)}
    return {"workers": workers, "pss_kib": sum(processes.values()), "processes": len(processes)}


def measure_memory(project: Project, warm: list[Target], logs: Path, run: Run) -> None:
    try:
        run.memory = {str(workers): memory_of(project, workers, warm, logs) for workers in (1, WORKERS)}
    except (BenchmarkError, OSError, subprocess.TimeoutExpired) as error:
        run.errors["memory"] = str(error)


# --- MLflow in its own venv -----------------------------------------------------------------------------------------


def ensure_mlflow_venv(sklearn_version: str, logs: Path) -> None:
    """benchmarks/.venv-mlflow with mlflow and the project's scikit-learn version; reused when it matches."""
    python = MLFLOW_VENV / "bin" / "python"
    if (
        python.exists()
        and package_version(python, "mlflow")
        and package_version(python, "scikit-learn") == (sklearn_version)
    ):
        say(f"reusing {MLFLOW_VENV}")
        return
    say(f"installing mlflow and scikit-learn=={sklearn_version} into {MLFLOW_VENV} (a few minutes, once)")
    if not python.exists():
        run_logged([sys.executable, "-m", "venv", MLFLOW_VENV], logs / "mlflow-install.log", timeout=300)
    pip = [python, "-m", "pip", "install", "mlflow", f"scikit-learn=={sklearn_version}"]
    run_logged(pip, logs / "mlflow-install.log", timeout=1800)


def prepare_mlflow(project: Project, pickle_path: Path, workdir: Path, logs: Path, run: Run) -> Path | None:
    """The same fitted pipeline saved as an MLflow model; None (and an error noted) when that fails."""
    try:
        ensure_mlflow_venv(run.meta["scikit_learn"], logs)
        model_dir = workdir / "mlflow-model"
        command = [MLFLOW_VENV / "bin" / "python", HELPERS / "save_mlflow.py", pickle_path, model_dir]
        versions = run_logged(command, logs / "mlflow-install.log", timeout=600, env={**os.environ, **MLFLOW_QUIET})
        run.meta["mlflow"] = json.loads(versions.splitlines()[-1])["mlflow"]
    except (BenchmarkError, subprocess.TimeoutExpired, ValueError, KeyError) as error:
        run.errors["mlflow"] = str(error)
        say(f"mlflow could not be set up: {str(error)[:300]}")
        return None
    return model_dir


def export_pickle(project: Project, pickle_path: Path, logs: Path) -> str:
    """Pickle the project's fitted pipeline for a naive app; returns the scikit-learn version that loaded it."""
    output = run_logged(
        [project.python, HELPERS / "export_pickle.py", project.model, pickle_path], logs / "setup.log", 120
    )
    return json.loads(output.splitlines()[-1])["sklearn"]


# --- summary ----------------------------------------------------------------------------------------------------------


def median_of(rounds: list[dict], key: str) -> float | None:
    values = [figures[key] for figures in rounds]
    return statistics.median(values) if values else None


def summarize_wrk(rounds: list[dict]) -> dict:
    return {
        "requests_per_second": median_of(rounds, "requests_per_second"),
        "p50_ms": median_of(rounds, "p50_ms"),
        "p99_ms": median_of(rounds, "p99_ms"),
        "non_2xx": sum(figures["non_2xx"] for figures in rounds),
        "socket_errors": sum(figures["socket_errors"] for figures in rounds),
        "requests": sum(figures["requests"] for figures in rounds),
        "rounds": rounds,
    }


def paired_ratio(numerators: list[float], denominators: list[float]) -> float | None:
    """The median over rounds of the round-by-round ratio (both measured in the same round)."""
    ratios = [top / bottom for top, bottom in zip(numerators, denominators, strict=False) if bottom]
    return statistics.median(ratios) if ratios else None


def rates(run: Run, name: str) -> list[float]:
    return [figures["requests_per_second"] for figures in run.rounds.get(name, [])]


def batch_summary(run: Run) -> dict:
    served = [rate * BATCH_ROWS for rate in rates(run, "ours-batch")]
    local = [figures["rows_per_second"] for figures in run.rounds.get("in-process", [])]
    return {
        "rows": BATCH_ROWS,
        "ours_rows_per_second": statistics.median(served) if served else None,
        "in_process_rows_per_second": statistics.median(local) if local else None,
        "in_process_best_rows_per_second": max(
            (BATCH_ROWS / figures["best_seconds"] for figures in run.rounds.get("in-process", [])), default=None
        ),
        "ratio": paired_ratio(served, local),
        "ours_request": summarize_wrk(run.rounds.get("ours-batch", [])),
        "in_process_rounds": run.rounds.get("in-process", []),
    }


def cold_start_summary(run: Run) -> dict:
    summary = {f"{name}_seconds": statistics.median(values) for name, values in run.cold_start.items() if values}
    return {**summary, "runs": run.cold_start}


def ratios(run: Run, batch: dict) -> dict[str, float | None]:
    cold, memory = run.cold_start, run.memory
    pss = {workers: figures["pss_kib"] for workers, figures in memory.items()}
    return {
        "ours/hello single-row req/s": paired_ratio(rates(run, "ours"), rates(run, "hello")),
        "ours/naive single-row req/s": paired_ratio(rates(run, "ours"), rates(run, "naive")),
        "ours/mlflow single-row req/s": paired_ratio(rates(run, "ours"), rates(run, "mlflow")),
        "naive/hello single-row req/s": paired_ratio(rates(run, "naive"), rates(run, "hello")),
        "bare-onnx/hello single-row req/s": paired_ratio(rates(run, "bare-onnx"), rates(run, "hello")),
        "ours/bare-onnx single-row req/s": paired_ratio(rates(run, "ours"), rates(run, "bare-onnx")),
        "ours-text/naive-text single-text req/s": paired_ratio(rates(run, "ours-text"), rates(run, "naive-text")),
        "ours batch rows/s / in-process predict rows/s": batch["ratio"],
        "ours/naive cold start": paired_ratio(cold.get("ours", []), cold.get("naive", [])),
        "ours/import floor cold start": paired_ratio(cold.get("ours", []), cold.get("import_floor", [])),
        "ours PSS 2 workers / 1 worker": pss[str(WORKERS)] / pss["1"] if len(pss) == 2 else None,
    }


def judged(values: dict[str, float | None], skipped: set[str]) -> list[dict]:
    rows = []
    for name, comparison, goal in GOALS:
        value = values[name]
        if comparison is None:
            verdict = "info"
        elif value is None:
            verdict = "skipped" if name in skipped else "not measured"
        else:
            verdict = "met" if (value >= goal if comparison == ">=" else value <= goal) else "missed"
        rows.append({"name": name, "value": value, "comparison": comparison, "target": goal, "verdict": verdict})
    return rows


def summarize(run: Run, skip_mlflow: bool) -> dict:
    single = {
        name: summarize_wrk(run.rounds[name])
        for name in ("hello", "naive", "bare-onnx", "mlflow", "ours", "naive-text", "ours-text")
        if name in run.rounds
    }
    batch = batch_summary(run)
    skipped = {"ours/mlflow single-row req/s"} if skip_mlflow else set()
    return {
        "meta": run.meta,
        "single_row": single,
        "batch": batch,
        "cold_start": cold_start_summary(run),
        "memory": run.memory,
        "in_app_microseconds": run.in_app,
        "ratios": judged(ratios(run, batch), skipped),
        "errors": run.errors,
    }


def fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    """The value in the pattern, or "-" as wide as the pattern's field when there is none."""
    width = re.match(r"\{:>?(\d*)", pattern).group(1)
    return ("-" if value is None else pattern.format(value)).rjust(int(width or 0))


def print_report(report: dict) -> None:
    print("\ntarget (single row unless said)        req/s     p50 ms    p99 ms   non-2xx  socket errors")
    rows = [*report["single_row"].items(), ("ours, 1000-row batch", report["batch"]["ours_request"])]
    for name, figures in rows:
        print(
            f"{name:<34}{fmt(figures['requests_per_second'], '{:>10.1f}')}{fmt(figures['p50_ms'], '{:>11.2f}')}"
            f"{fmt(figures['p99_ms'], '{:>10.2f}')}{figures['non_2xx']:>10}{figures['socket_errors']:>15}"
        )
    print_figures(report)
    print(f"\n{'ratio':<48}{'value':>8}   {'target':<8}  verdict")
    for row in report["ratios"]:
        goal = f"{row['comparison']} {row['target']}" if row["comparison"] else ""
        print(f"{row['name']:<48}{fmt(row['value'], '{:>8.3f}')}   {goal:<8}  {row['verdict']}")
    for name, error in report["errors"].items():
        print(f"\nNOT MEASURED {name}: {error[:500]}")


def print_figures(report: dict) -> None:
    batch, cold, memory = report["batch"], report["cold_start"], report["memory"]
    print(
        f"\nbatch: ours {fmt(batch['ours_rows_per_second'], '{:,.0f}')} rows/s, in-process predict "
        f"{fmt(batch['in_process_rows_per_second'], '{:,.0f}')} rows/s (median; best "
        f"{fmt(batch['in_process_best_rows_per_second'], '{:,.0f}')})"
    )
    print(
        f"cold start (median): ours {fmt(cold.get('ours_seconds'), '{:.2f} s')} to /ready, naive "
        f"{fmt(cold.get('naive_seconds'), '{:.2f} s')} to /predict, import floor "
        f"{fmt(cold.get('import_floor_seconds'), '{:.2f} s')}"
    )
    in_app = ", ".join(f"{name} {microseconds:.0f}" for name, microseconds in report["in_app_microseconds"].items())
    print(f"in-app time per single-row request (WSGI call alone, µs): {in_app or '-'}")
    pss = {workers: figures["pss_kib"] / 1024 for workers, figures in memory.items()}
    print(f"memory (PSS, master + workers): 1 worker {fmt(pss.get('1'), '{:.1f} MiB')}, ", end="")
    print(f"{WORKERS} workers {fmt(pss.get(str(WORKERS)), '{:.1f} MiB')}")


# --- the whole run ----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the load tests (%(default)s)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run (%(default)s)")
    parser.add_argument("--cold-starts", type=int, default=5, help="cold starts of each kind (%(default)s)")
    parser.add_argument("--skip-mlflow", action="store_true", help="leave MLflow out (no venv of its own needed)")
    parser.add_argument("--project", type=Path, help="a rendered, installed and trained project to use")
    parser.add_argument("--text-project", type=Path, help="the same, rendered with example_task=text")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON figures (%(default)s)")
    parser.add_argument("--smoke", action="store_true", help="1 round of 1 s, no MLflow, 2 cold starts")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.duration, args.cold_starts, args.skip_mlflow = 1, 1, 2, True
    if min(args.rounds, args.duration, args.cold_starts) < 1:
        parser.error("--rounds, --duration and --cold-starts must be at least 1")
    return args


def describe_machine(args: argparse.Namespace, project: Project, text_project: Project) -> dict:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "project": str(project.root),
        "text_project": str(text_project.root),
        "rounds": args.rounds,
        "duration_seconds": args.duration,
        "cold_starts": args.cold_starts,
        "wrk": f"wrk -t1 -c{CONNECTIONS} -d{args.duration}s --latency",
        "workers": WORKERS,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "template_commit": commit.stdout.strip(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def build_targets(
    project: Project, pickle_path: Path, text: tuple[Project, Path], mlflow_dir: Path | None, workdir: Path, logs: Path
):
    single, rows = json.dumps({"features": SETOSA}), batch_rows()
    text_project, text_pickle = text
    one_text = json.dumps({"text": NURSE})

    def app(on: Project, name: str, module: str, body: str, **env: str) -> Target:
        return Target(name, gunicorn_app(on, name, f"apps.{module}:app", logs, **env), "/predict", body)

    targets = [
        app(project, "hello", "hello", single),
        app(project, "naive", "naive", single, NAIVE_MODEL_PATH=str(pickle_path)),
        Target("ours", ours_server(project, "ours", logs), "/predict", single),
        app(project, "bare-onnx", "bare_onnx", single, BARE_ONNX_PATH=str(project.onnx_model)),
        app(text_project, "naive-text", "naive_text", one_text, NAIVE_MODEL_PATH=str(text_pickle)),
        Target("ours-text", ours_server(text_project, "ours-text", logs), "/predict", one_text),
    ]
    if mlflow_dir is not None:
        targets.append(
            Target("mlflow", mlflow_server(mlflow_dir, logs), "/invocations", json.dumps({"inputs": [SETOSA]}))
        )
    (ours,) = [target for target in targets if target.name == "ours"]
    batch = Target("ours-batch", ours.server, "/predict", json.dumps({"instances": rows}))
    for target in [*targets, batch]:
        target.lua = write_lua(workdir / f"{target.name}.lua", target.body)
    (workdir / "rows.json").write_text(json.dumps(rows))
    return targets, batch


def load_tests(args, project: Project, pickle_path: Path, text, workdir: Path, logs: Path, run: Run, stack) -> list:
    """Start the servers, warm them, run the rounds, stop them (`stack` stops them on errors too).

    Returns the single-row and batch targets of the service, to warm it before measuring its memory.
    """
    mlflow_dir = None if args.skip_mlflow else prepare_mlflow(project, pickle_path, workdir, logs, run)
    targets, batch = build_targets(project, pickle_path, text, mlflow_dir, workdir, logs)
    for target in targets:
        stack.callback(target.server.stop)
    say(f"starting {', '.join(target.name for target in targets)}")
    started = start_targets(targets, run)
    loaded = [*started, batch] if any(target.name == "ours" for target in started) else started
    say("warming up (1 s of load each)")
    for target in loaded:
        with contextlib.suppress(BenchmarkError):
            run_wrk(target, 1)
    jobs: dict[str, Callable[[], object]] = {
        target.name: (lambda t=target: run_wrk(t, args.duration)) for target in loaded
    }
    jobs["in-process"] = lambda: in_process_predict(project, workdir / "rows.json", min(args.duration, 2))
    measure_rounds(jobs, args.rounds, run)
    for target in targets:
        target.server.stop()
    return [target for target in [*targets, batch] if target.name in ("ours", "ours-batch")]


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
        export_pickle(text_project, text_pickle, logs)
        warm = load_tests(args, project, pickle_path, (text_project, text_pickle), workdir, logs, run, stack)
        say("in-app time per request: hello, bare-onnx and ours called as WSGI apps")
        measure_in_app(project, logs, run)
        say(f"cold starts: {args.cold_starts} of each")
        measure_cold_starts(project, pickle_path, logs, args.cold_starts, run)
        say("memory: PSS with 1 and with 2 workers")
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
    report = summarize(run, args.skip_mlflow)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    print(f"\nfigures: {args.output}   logs: {logs_folder(args.output)}   took {run.meta['elapsed_seconds']} s")
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(main())
