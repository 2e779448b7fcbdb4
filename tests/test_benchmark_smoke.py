"""The benchmark (benchmarks/run.py) runs end to end in its smoke mode against the installed renders.

It measures; it does not judge: a missed performance target is not a failure here, only a figure
that could not be measured at all is.
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
TIMEOUT_SECONDS = 300


def run_benchmark(*arguments: str) -> tuple[int, str]:
    """Run the benchmark; on a time-out, SIGTERM it first so that it stops every server it started."""
    process = subprocess.Popen(
        [sys.executable, str(BENCHMARK), *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
        pytest.fail(f"the benchmark took more than {TIMEOUT_SECONDS} s:\n{output[-5000:]}")
    return process.returncode, output


@pytest.mark.needs("wrk")  # missing, the suite stops at once (conftest.py), as for the browser
def test_the_benchmark_smoke_run_measures_every_figure(installed_project, installed_text_project, tmp_path):
    output_file = tmp_path / "out.json"
    projects = ["--project", str(installed_project), "--text-project", str(installed_text_project)]
    code, output = run_benchmark("--smoke", *projects, "--output", str(output_file))
    print(output)
    assert code == 0, output[-5000:]
    report = json.loads(output_file.read_text())
    assert report["errors"] == {}
    assert report["meta"]["peers"] == []  # --smoke leaves out every peer that needs a venv of its own
    single_row = ("hello", "naive", "bare-onnx", "ours")
    for target in (*single_row, "naive-text", "ours-text"):
        figures = report["single_row"][target]
        assert figures["requests_per_second"] > 0, target
        assert figures["cpu_ms_per_request"] > 0, target
        assert figures["pss_kib_after_load"] > 0, target
    for target in single_row:
        assert report["connection_close"][target]["requests_per_second"] > 0, target
        assert report["cold_start"][f"{target}_seconds"] > 0, target
    # Held-open clients may starve a server (gunicorn's sync workers) of every request: that is a figure too.
    for kind in ("idle", "slow-header", "slow-body"):
        for target in single_row:
            figures = report["slow_clients"][kind][target]
            assert len(figures["rounds"]) == 1, (kind, target)
            assert figures["requests"] >= 0, (kind, target)
            assert figures["slow_clients_dropped"] >= 0, (kind, target)
        ours = report["slow_clients"][kind]["ours"]
        assert (ours["p99_ms"] is None) == (ours["requests"] == 0), kind
    assert set(report["meta"]["single_row_probabilities"]) == {"ours", "bare-onnx"}
    assert report["batch"]["ours_rows_per_second"] > 0
    assert report["batch"]["in_process_rows_per_second"] > 0
    assert report["cold_start"]["import_floor_seconds"] > 0
    assert report["memory"]["1"]["pss_kib"] > 0
    assert set(report["in_app_microseconds"]) == {"hello", "bare-onnx", "ours"}
    assert all(microseconds > 0 for microseconds in report["in_app_microseconds"].values())
    assert report["memory"]["2"]["pss_kib"] > report["memory"]["1"]["pss_kib"]
    verdicts = {row["name"]: row["verdict"] for row in report["ratios"]}
    peers = ("fastapi", "fastapi-rm", "bentoml", "mlserver", "mlflow")
    against_peers = {name for name in verdicts if name.split()[0].split("/")[-1] in peers}
    assert all(verdicts[name] in {"skipped", "info"} for name in against_peers), verdicts
    assert verdicts["ours/fastapi single-row req/s"] == "skipped"
    assert all(verdict in {"met", "missed", "info"} for name, verdict in verdicts.items() if name not in against_peers)
