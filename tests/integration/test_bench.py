"""`make bench` runs end to end on the real broker and a real PostgreSQL, small, and reports
what the README quotes. Its speeds are measured by `make bench`, never asserted here."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_and_reports_ratios_against_its_own_baseline():
    small = ["--events", "600", "--rate", "200", "--seconds", "2", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.projection", *small],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert results["events"] == 600
    raw = results["raw_events_per_s"]
    for name in ("parse", "sqlite", "postgres"):
        rate = results[f"{name}_events_per_s"]
        assert rate > 0, name
        assert abs(results[f"{name}_ratio"] - rate / raw) < 1e-9, name
    assert 0 < results["freshness_p50_s"] <= results["freshness_p99_s"]


def test_the_queue_benchmark_runs_and_reports_each_queues_ratio():
    small = ["--small", "200", "--large", "2000", "--database", "sqlite", "--depth", "2", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.queues", *small],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert set(results["ratio"]) == {
        "reception",
        "allocation",
        "reply-overdue",
        "targets",
        "inbox",
        "accepted",
        "qualification",
        "breached",
        "stuck",
    }
    for name, ratio in results["ratio"].items():
        assert abs(ratio - results["large_s"][name] / results["small_s"][name]) < 1e-9, name


def test_the_step_to_queue_benchmark_runs_on_the_embedded_stack():
    done = subprocess.run(
        [sys.executable, "-m", "bench.step_freshness", "--rate", "20", "--seconds", "2", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)
    assert results["steps"] == 40
    assert 0 < results["p50_s"] <= results["p99_s"]
