"""The benchmark (benchmarks/run.py) runs end to end in its smoke mode against the installed renders.

It measures; it does not judge: a missed performance target is not a failure here, only a figure
that could not be measured at all is.
"""

import json
import shutil
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


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not on PATH (apt-get install wrk)")
def test_the_benchmark_smoke_run_measures_every_figure(installed_project, installed_text_project, tmp_path):
    output_file = tmp_path / "out.json"
    projects = ["--project", str(installed_project), "--text-project", str(installed_text_project)]
    code, output = run_benchmark("--smoke", *projects, "--output", str(output_file))
    print(output)
    assert code == 0, output[-5000:]
    report = json.loads(output_file.read_text())
    assert report["errors"] == {}
    for target in ("hello", "naive", "bare-onnx", "ours", "naive-text", "ours-text"):
        assert report["single_row"][target]["requests_per_second"] > 0, target
    assert report["batch"]["ours_rows_per_second"] > 0
    assert report["batch"]["in_process_rows_per_second"] > 0
    for kind in ("ours", "naive", "import_floor"):
        assert report["cold_start"][f"{kind}_seconds"] > 0, kind
    assert report["memory"]["1"]["pss_kib"] > 0
    assert set(report["in_app_microseconds"]) == {"hello", "bare-onnx", "ours"}
    assert all(microseconds > 0 for microseconds in report["in_app_microseconds"].values())
    assert report["memory"]["2"]["pss_kib"] > report["memory"]["1"]["pss_kib"]
    verdicts = {row["name"]: row["verdict"] for row in report["ratios"]}
    assert verdicts["ours/mlflow single-row req/s"] == "skipped"
    assert all(verdict in {"met", "missed", "info"} for name, verdict in verdicts.items() if "mlflow" not in name)
