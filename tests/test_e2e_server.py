"""The rendered service, installed as its README says, started with the Docker image's exact CMD
on a free 127.0.0.1 port, then attacked: documented answers, a corpus of bad requests, bounded
load, keep-alive, 300 idle, slow-header or slow-body connections, header and body timeouts, a
worker killed mid-load, SIGTERM mid-load with idle connections open, and a tampered model. A text render's service and a
regression render's are started the same way and must answer their documented predictions and errors."""

import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import JSON, Server, docker_cmd, free_port, request

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SETOSA = [5.1, 3.5, 1.4, 0.2]


def docker_healthcheck(project: Path) -> list[str]:
    """The HEALTHCHECK command of the project's Dockerfile."""
    text = (project / "Dockerfile").read_text().replace("\\\n", " ")
    return json.loads(re.search(r"^HEALTHCHECK .*? CMD (\[.*\])$", text, re.MULTILINE).group(1))


def load(port, total, clients, on_progress=None, body=None) -> dict[int, str]:
    """Send `total` predictions of `body` (or one row) from `clients` threads, X-Request-ID load-<n>: n -> outcome."""
    outcomes: dict[int, str] = {}

    def one(index):
        try:
            headers = {"X-Request-ID": f"load-{index}"}
            status = request(port, "POST", "/predict", body or {"features": SETOSA}, headers, timeout=30)[0]
            outcomes[index] = "ok" if status == 200 else f"status {status}"
        except ConnectionRefusedError:
            outcomes[index] = "refused"
        except (OSError, http.client.HTTPException) as error:
            outcomes[index] = type(error).__name__
        if on_progress:
            on_progress(index)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(total)))
    return outcomes


def test_documented_endpoints_answer_as_the_readme_says(server):
    assert request(server.port, "GET", "/health")[2] == {"status": "ok"}
    status, headers, body = request(server.port, "GET", "/ready")
    assert (status, body["model"]["name"]) == (200, "iris-classifier-service")
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    assert request(server.port, "GET", "/model")[2]["class_labels"] == ["setosa", "versicolor", "virginica"]
    # The seed's curl example, word for word.
    status, _, body = request(server.port, "POST", "/predict", '{"features": [5.1, 3.5, 1.4, 0.2]}', JSON)
    assert (status, body["predictions"]) == (200, ["setosa"])


# Every built-in check runs (the default of `st run`), and negative_data_rejection also counts 413 as a
# rejection (a batch over server.max_batch_rows, which the document states as maxItems). On the two
# /v2 .../infer operations positive_data_acceptance is off: JSON Schema cannot tie the length of a
# tensor's `data` to its `shape`, so a schema-valid tensor may still be a mismatched one (answered 400,
# as the document says); every other check still runs on them.
SCHEMATHESIS_CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 404, 405, 413, 415, 422]

[[operations]]
include-path-regex = ".*/infer$"
checks.positive_data_acceptance.enabled = false
"""


@pytest.fixture(scope="module")
def keyed_server(installed_project):
    """The default render's server with an API key (API_KEYS): every route but the probes needs it."""
    running = Server(installed_project, variables={"API_KEYS": os.urandom(32).hex()}, server__workers=1).wait_ready()
    yield running
    running.stop()


# The default render is fuzzed hardest; the regression render shares its input kind (rows of numbers) and
# adds only its output kind, so fewer examples per operation cover what is new there. With a key, schemathesis
# sends it, and also checks that each secured operation refuses a request without it (its ignored_auth check).
@pytest.mark.parametrize(
    ("served", "examples"),
    [("server", 30), ("text_server", 30), ("regression_server", 10), ("keyed_server", 10)],
    ids=["default", "text", "regression", "with-an-api-key"],
)
def test_schemathesis_finds_the_live_server_true_to_its_openapi_document(served, examples, request, tmp_path):
    server = request.getfixturevalue(served)
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    st = Path(sys.executable).parent / "st"
    command = [str(st), "--config-file", str(config), "--no-color", "run"]
    command += [f"http://127.0.0.1:{server.port}/openapi.json", "--seed", "20261125", "--max-examples", str(examples)]
    command += ["--workers", "1", "--max-response-time", "10", "--report-dir", str(tmp_path)]
    if key := server.env.get("API_KEYS"):
        command += ["--header", f"Authorization: Bearer {key}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    print(result.stdout[result.stdout.rfind("\n", 0, result.stdout.rfind(" SUMMARY ")) :])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Traceback" not in server.output()


def test_the_images_healthcheck_passes_against_the_server_and_fails_without_it(server, installed_project):
    command = docker_healthcheck(installed_project)
    assert server.run(command).returncode == 0
    assert server.run(command, server__port=free_port()).returncode == 1


def predictions_answered(port) -> float:
    """http_requests_total for successful POST /predict, as Prometheus would read it from /metrics."""
    text = request(port, "GET", "/metrics")[2]
    wanted = {"route": "/predict", "method": "POST", "status": "200"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels == wanted
    )


def test_metrics_add_up_across_both_workers(server):
    before = predictions_answered(server.port)
    outcomes = Counter(load(server.port, total=400, clients=8).values())
    assert outcomes == {"ok": 400}
    assert predictions_answered(server.port) - before == 400


def out_of_range_counts(port: int) -> dict[str, float]:
    return {
        sample.labels["feature"]: sample.value
        for family in text_string_to_metric_families(request(port, "GET", "/metrics")[2])
        for sample in family.samples
        if sample.name == "input_values_out_of_range_total"
    }


def test_values_outside_the_training_range_are_counted_across_workers(server):
    before = out_of_range_counts(server.port)
    far = [50.0, 3.5, 1.4, -4.0]  # sepal length and petal width far outside what the iris data holds
    for _ in range(20):  # some reach each worker
        assert request(server.port, "POST", "/predict", {"instances": [far, SETOSA]})[0] == 200
    after = out_of_range_counts(server.port)
    changed = {feature: after[feature] - before.get(feature, 0) for feature in after}
    assert {feature: count for feature, count in changed.items() if count} == {"sepal_length": 20, "petal_width": 20}


BAD_REQUESTS = [
    ("malformed-json", "POST", "/predict", '{"features": [5.1,', JSON, 400, "bad_request"),
    ("deep-json", "POST", "/predict", "[" * 100_000 + "]" * 100_000, JSON, 400, "bad_request"),
    ("lone-surrogate", "POST", "/predict", '{"features": {"\\ud800": 1}}', JSON, 400, "bad_request"),
    ("not-json", "POST", "/predict", "features=5.1", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
    ("no-content-type", "POST", "/predict", '{"features": [1, 2, 3, 4]}', {}, 415, "unsupported_media_type"),
    ("too-few", "POST", "/predict", {"features": [1, 2, 3]}, None, 422, "invalid_input"),
    ("strings", "POST", "/predict", {"features": ["1", 2, 3, 4]}, None, 422, "invalid_input"),
    ("boolean", "POST", "/predict", {"features": [True, 2, 3, 4]}, None, 422, "invalid_input"),
    ("nested", "POST", "/predict", {"instances": [[[1, 2, 3, 4]]]}, None, 422, "invalid_input"),
    ("nan", "POST", "/predict", '{"features": [NaN, 2, 3, 4]}', JSON, 422, "invalid_input"),
    ("infinity", "POST", "/predict", '{"features": [Infinity, 2, 3, 4]}', JSON, 422, "invalid_input"),
    ("unknown-name", "POST", "/predict", {"features": {"petal": 1}}, None, 422, "invalid_input"),
    ("empty-batch", "POST", "/predict", {"instances": []}, None, 422, "invalid_input"),
    ("null-body", "POST", "/predict", "null", JSON, 422, "invalid_input"),
    ("oversize-body", "POST", "/predict", " " * 1_100_000, JSON, 413, "payload_too_large"),
    ("oversize-batch", "POST", "/predict", {"instances": [SETOSA] * 1001}, None, 413, "batch_too_large"),
    ("unknown-route", "GET", "/admin", None, None, 404, "not_found"),
    ("wrong-method", "DELETE", "/predict", None, None, 405, "method_not_allowed"),
    ("get-predict", "GET", "/predict", None, None, 405, "method_not_allowed"),
    ("post-health", "POST", "/health", {}, None, 405, "method_not_allowed"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_their_documented_json_error(server, method, path, body, headers, status, code):
    answered, answered_headers, answer = request(server.port, method, path, body, headers)
    assert (answered, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["request_id"] == answered_headers["X-Request-ID"]
    assert "Traceback" not in json.dumps(answer)


def test_in_production_a_forged_host_gets_400_and_is_never_echoed(installed_project, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", os.urandom(32).hex())
    monkeypatch.setenv("API_KEYS", os.urandom(32).hex())
    server = Server(installed_project, environment="production", server__trusted_hosts="[127.0.0.1]").wait_ready()
    try:
        for path in ("//health", "//static//x", "/health"):  # the first two would redirect to the Host sent
            status, headers, answer = request(server.port, "GET", path, headers={"Host": "evil.example"})
            assert (status, answer["error"]["code"]) == (400, "bad_request"), (path, answer)
            assert "evil.example" not in json.dumps(answer) + str(headers.get("Location"))
    finally:
        server.stop()


def test_bounded_load_completes_without_errors(server):
    outcomes = Counter(load(server.port, total=3000, clients=8).values())
    print(f"load outcomes: {outcomes}")
    assert outcomes == {"ok": 3000}
    assert "Traceback" not in server.output()


def metrics_folder(worker: int) -> Path:
    """The folder a worker writes its metrics files to, from the files it holds open."""
    for link in Path(f"/proc/{worker}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = link.readlink()
            if target.suffix == ".db":
                return target.parent
    raise AssertionError(f"worker {worker} holds no metrics file open")


def test_a_killed_worker_is_replaced_with_at_most_one_failed_request(server):
    """One client, one request at a time: only a request in flight on the killed worker may fail."""
    before = server.workers()
    victim = min(before)
    killed = threading.Event()

    def kill_midway(index):
        if index == 200 and not killed.is_set():
            os.kill(victim, signal.SIGKILL)
            killed.set()

    answered_before = predictions_answered(server.port)
    outcomes = Counter(load(server.port, total=600, clients=1, on_progress=kill_midway).values())
    print(f"outcomes with worker {victim} killed mid-load: {outcomes}")
    assert killed.is_set()
    assert outcomes["ok"] >= 599, outcomes
    deadline = time.monotonic() + 30
    while (len(server.workers()) != 2 or victim in server.workers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert victim not in server.workers()
    assert len(server.workers()) == 2
    assert request(server.port, "GET", "/ready")[0] == 200
    # The dead worker's counts still add up; its files were folded into the others' and removed.
    assert predictions_answered(server.port) - answered_before >= outcomes["ok"]
    folder = metrics_folder(max(server.workers()))
    assert not list(folder.glob(f"*_{victim}.db"))
    assert len(list(folder.glob("*.db"))) <= 3 * 4  # a few kinds, for the main process, two workers and the dead


def test_connections_are_kept_alive(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    sockets = []
    try:
        for _ in range(20):
            connection.request("POST", "/predict", json.dumps({"features": SETOSA}), JSON)
            response = connection.getresponse()
            response.read()
            assert (response.status, response.will_close) == (200, False)
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert all(sock is sockets[0] for sock in sockets)  # one TCP connection throughout


def bad_connection(port: int, kind: str) -> socket.socket:
    """A connection that ties up a naive server: idle (no byte yet), sending its headers slowly, or its body."""
    connection = socket.create_connection(("127.0.0.1", port))
    if kind == "slow-header":
        connection.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\n")
    elif kind == "slow-body":
        connection.sendall(b"POST /predict HTTP/1.1\r\nHost: localhost\r\n" + b"Content-Type: application/json\r\n")
        connection.sendall(b"Content-Length: 1000\r\n\r\n{")
    return connection


def trickle(connections: list[socket.socket], kind: str, stop: threading.Event) -> None:
    """A byte every half second on each connection (a header line's or the body's), as a slow client sends."""
    while not stop.wait(0.5):
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.send(b"X" if kind == "slow-header" else b" ")


# More than threads could hold: under granian's WSGI interface a slow body held one of the 2 x 64 threads, and 140
# such connections took the service down (rsgi_bridge.py reads bodies without a thread).
BAD_CONNECTIONS = 300


@pytest.mark.parametrize("kind", ["idle", "slow-header", "slow-body"])
def test_normal_clients_are_answered_within_1_5_s_while_300_bad_connections_are_open(server, kind):
    connections = [bad_connection(server.port, kind) for _ in range(BAD_CONNECTIONS)]
    stop = threading.Event()
    sender = threading.Thread(target=trickle, args=(connections, kind, stop))
    sender.start()
    try:
        time.sleep(0.5)  # let the server take them all up
        seconds = []
        for _ in range(20):
            started = time.monotonic()
            assert request(server.port, "POST", "/predict", {"features": SETOSA}, timeout=1.5)[0] == 200
            seconds.append(time.monotonic() - started)
    finally:
        stop.set()
        sender.join()
        for connection in connections:
            connection.close()
    print(f"{kind}: worst of 20 normal requests {max(seconds) * 1000:.0f} ms with {BAD_CONNECTIONS} connections open")
    assert max(seconds) < 1.5


def wait_closed(connection: socket.socket, limit: float) -> bytes:
    """Until the server closes `connection`: what it answered first."""
    connection.settimeout(limit)
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def test_slow_headers_slow_bodies_and_idle_kept_alive_connections_are_closed_after_their_timeouts(installed_project):
    timeouts = {"server__header_timeout_seconds": 1, "server__body_timeout_seconds": 1}
    server = Server(installed_project, server__workers=1, **timeouts).wait_ready()
    try:
        started = time.monotonic()
        slow_header, slow_body = bad_connection(server.port, "slow-header"), bad_connection(server.port, "slow-body")
        kept_alive = socket.create_connection(("127.0.0.1", server.port))
        kept_alive.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answers = []
        for connection in (slow_header, slow_body, kept_alive):  # kept_alive: answered, then closed once idle for 1 s
            answers.append(wait_closed(connection, limit=5))
            assert 0.5 < time.monotonic() - started < 3
        body_timeout, health = (answer.partition(b"\r\n\r\n") for answer in answers[1:])
        assert body_timeout[0].startswith(b"HTTP/1.1 408 ")
        assert json.loads(body_timeout[2])["error"]["code"] == "request_timeout"
        assert health[0].startswith(b"HTTP/1.1 200 ")
    finally:
        server.stop()


def test_sigterm_mid_load_with_idle_connections_open_finishes_in_flight_requests_and_exits_0(installed_project):
    server = Server(installed_project, server__workers=2, server__graceful_timeout_seconds=10).wait_ready()
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
    for connection in idle[:4]:  # kept alive after one request; the others never sent a byte
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        connection.recv(65536)
    terminated = threading.Event()

    sent_at = []

    def terminate_midway(index):
        if index == 300 and not terminated.is_set():
            server.process.send_signal(signal.SIGTERM)
            sent_at.append(time.monotonic())
            terminated.set()

    outcomes = load(server.port, total=1500, clients=8, on_progress=terminate_midway)
    code = server.process.wait(timeout=15)
    elapsed = time.monotonic() - sent_at[0]
    handled = {int(number) for number in re.findall(r'"request_id": ?"load-(\d+)"', server.output())}
    server.stop()
    for connection in idle:
        connection.close()
    print(f"SIGTERM mid-load: {Counter(outcomes.values())}; exit {code} {elapsed:.1f} s after SIGTERM")
    assert code == 0
    # Well inside the 10 s graceful timeout, idle connections or not: no worker waits for them, or
    # hangs on its way out (onnxruntime did when it was imported before the fork).
    assert elapsed < 5
    # Every request a worker took up was answered in full. Connections still waiting in the
    # kernel's accept queue when the server closed its socket were reset, never half-answered.
    assert len(handled) >= 200, outcomes  # the load was well under way
    assert {outcomes[number] for number in handled} == {"ok"}, outcomes
    unhandled = {outcome for number, outcome in outcomes.items() if number not in handled}
    assert unhandled <= {"refused", "ConnectionResetError", "BrokenPipeError", "RemoteDisconnected"}, outcomes


def copy_model(project: Path, folder: Path) -> Path:
    for suffix in (".skops", ".onnx", ".json"):
        shutil.copy(project / "models" / f"model{suffix}", folder / f"model{suffix}")
    return folder / "model.skops"


def refusal(project: Path, artifact: Path) -> tuple[int, str]:
    server = Server(project, model__artifact_path=artifact)
    code = server.process.wait(timeout=60)
    output = server.output()
    server.stop()
    return code, output


def test_a_tampered_model_makes_the_server_refuse_to_start(installed_project, tmp_path):
    artifact = copy_model(installed_project, tmp_path)
    artifact.write_bytes(artifact.read_bytes() + b"tampered")
    code, output = refusal(installed_project, artifact)
    assert code != 0
    assert f"{artifact}: sha256 does not match" in output


def test_an_onnx_model_no_worker_can_load_makes_the_server_refuse_to_start(installed_project, tmp_path):
    artifact = copy_model(installed_project, tmp_path)
    broken = b"not an onnx model"
    artifact.with_suffix(".onnx").write_bytes(broken)
    metadata = json.loads(artifact.with_suffix(".json").read_text())
    metadata["onnx_sha256"] = hashlib.sha256(broken).hexdigest()
    artifact.with_suffix(".json").write_text(json.dumps(metadata))
    code, output = refusal(installed_project, artifact)
    assert code != 0
    assert "not a loadable ONNX model" in output


def test_a_text_projects_server_answers_its_documented_predictions_and_errors(text_server):
    nurse = "Registered nurse with six years in intensive care"  # the generated README's curl example
    status, _, body = request(text_server.port, "POST", "/predict", {"text": nurse})
    assert (status, body["predictions"]) == (200, ["nurse"])
    texts = ["Sales rep who exceeded quota every quarter", "Maths teacher who prepared students for exams"]
    tensor = {"name": "input-0", "shape": [2], "datatype": "BYTES", "data": texts}
    status, _, body = request(text_server.port, "POST", "/v2/models/resume-screener/infer", {"inputs": [tensor]})
    assert (status, body["outputs"][0]["data"]) == (200, ["sales", "teacher"])
    for bad in ({"text": ""}, {"text": 5}, {"text": "a" * 5001}, {"instances": [nurse, None]}):
        status, _, body = request(text_server.port, "POST", "/predict", bad)
        assert (status, body["error"]["code"]) == (422, "invalid_input"), bad
    outcomes = Counter(load(text_server.port, total=200, clients=8, body={"text": nurse}).values())
    assert outcomes == {"ok": 200}
    assert "Traceback" not in text_server.output()


def test_a_regression_projects_server_answers_numbers_and_refuses_bad_rows(regression_server):
    """The generated README's example patient, a batch, the v2 FP64 output, and the rows it must refuse."""
    patient = [59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]
    status, _, body = request(regression_server.port, "POST", "/predict", {"features": patient})
    assert status == 200
    (value,) = body["predictions"]
    assert isinstance(value, float)
    assert 25 <= value <= 346  # inside the diabetes data's target range
    status, _, body = request(regression_server.port, "POST", "/predict", {"instances": [patient] * 3})
    assert (status, body["predictions"]) == (200, [value] * 3)
    tensor = {"name": "input-0", "shape": [1, 10], "datatype": "FP64", "data": patient}
    path = "/v2/models/diabetes-progression-service/infer"
    status, _, body = request(regression_server.port, "POST", path, {"inputs": [tensor]})
    assert (status, body["outputs"]) == (
        200,
        [{"name": "prediction", "shape": [1], "datatype": "FP64", "data": [value]}],
    )
    for bad in ({"features": patient[:9]}, {"features": [True, *patient[1:]]}, {"instances": [patient, None]}):
        status, _, body = request(regression_server.port, "POST", "/predict", bad)
        assert (status, body["error"]["code"]) == (422, "invalid_input"), bad
    outcomes = Counter(load(regression_server.port, total=200, clients=8, body={"features": patient}).values())
    assert outcomes == {"ok": 200}
    assert "Traceback" not in regression_server.output()


def load_until(port: int, stop: threading.Event, clients: int = 4) -> Counter:
    """Predictions from `clients` threads, one after another each, until `stop` is set: their outcomes."""
    outcomes: Counter = Counter()

    def client():
        while not stop.is_set():
            try:
                status = request(port, "POST", "/predict", {"features": SETOSA}, timeout=30)[0]
                outcomes["ok" if status == 200 else f"status {status}"] += 1
            except (OSError, http.client.HTTPException) as error:
                outcomes[type(error).__name__] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()
    return outcomes


def wait_for_line(server: Server, text: str, count: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while server.output().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count} times: {server.output()[-3000:]}"
        time.sleep(0.2)


def test_sighup_serves_a_newly_trained_model_under_load_and_keeps_it_when_the_next_is_tampered(
    installed_project, tmp_path
):
    """`train`, then SIGHUP (make reload) to the running production server: the new model is served with no
    request lost; a tampered artifact and SIGHUP: refused, the model served stays."""
    artifact = copy_model(installed_project, tmp_path)
    server = Server(installed_project, server__workers=2, model__artifact_path=artifact).wait_ready()
    stop = threading.Event()
    outcomes: Counter = Counter()
    loader = threading.Thread(target=lambda: outcomes.update(load_until(server.port, stop)))
    loader.start()
    try:
        train = [*docker_cmd(installed_project)[:-1], "train"]
        assert server.run(train, model__version="0.2.0").returncode == 0
        server.process.send_signal(signal.SIGHUP)
        wait_for_line(server, "Stopped old worker-2", 1)  # granian replaced both workers, a new one first
        model = request(server.port, "GET", "/model")[2]
        assert model["version"] == "0.2.0"
        assert request(server.port, "GET", "/ready")[0] == 200
        info = {
            sample.labels["version"]: sample.value
            for family in text_string_to_metric_families(request(server.port, "GET", "/metrics")[2])
            for sample in family.samples
            if sample.name == "model_info"
        }
        assert info == {"0.1.0": 0, "0.2.0": 1}
        artifact.write_bytes(artifact.read_bytes() + b"tampered")
        server.process.send_signal(signal.SIGHUP)
        wait_for_line(server, "Stopped old worker-2", 2)
        assert "new model refused, the old one still serves" in server.output()
        assert request(server.port, "GET", "/model")[2]["created_at"] == model["created_at"]
    finally:
        stop.set()
        loader.join()
        log = server.output()
        server.stop()
    print(f"load through two reloads: {outcomes}")
    # A connection that an old worker has accepted but not read from when it stops is closed unanswered (hyper's
    # graceful shutdown, hyperium/hyper#3808): a rare race (1 in 13,000 requests once), here at most one for each of
    # the 4 workers replaced.
    closed = {"BrokenPipeError", "ConnectionResetError", "RemoteDisconnected"}
    assert set(outcomes) <= {"ok", *closed}, outcomes
    assert sum(outcomes[kind] for kind in closed) <= 4, outcomes
    assert outcomes["ok"] > 200
    assert "Traceback" not in log
