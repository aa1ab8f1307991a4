"""`make bench` runs end to end on the real broker and a real PostgreSQL, small, and reports
what the README quotes. Its speeds are measured by `make bench`, never asserted here."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from workers.projection.queues import QUEUES

ROOT = Path(__file__).resolve().parents[2]


def bench(module: str, *args: str) -> dict[str, Any]:
    """Run one part of `make bench`, small, and return its JSON results."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def test_the_benchmark_runs_and_reports_ratios_against_its_own_baseline():
    results = bench("projection", "--events", "600", "--rate", "200", "--seconds", "2")
    assert results["events"] == 600
    raw = results["raw_events_per_s"]
    for name in ("parse", "sqlite", "postgres"):
        rate = results[f"{name}_events_per_s"]
        assert rate > 0, name
        assert abs(results[f"{name}_ratio"] - rate / raw) < 1e-9, name
    assert 0 < results["freshness_p50_s"] <= results["freshness_p99_s"]


def test_the_queue_benchmark_runs_and_reports_each_queues_ratio():
    results = bench(
        "queues", "--small", "200", "--large", "2000", "--database", "sqlite", "--depth", "2"
    )
    assert set(results["ratio"]) == set(QUEUES)  # every queue measured
    for name, ratio in results["ratio"].items():
        assert abs(ratio - results["large_s"][name] / results["small_s"][name]) < 1e-9, name


def test_the_step_to_queue_benchmark_runs_on_the_embedded_stack():
    results = bench("step_freshness", "--rate", "20", "--seconds", "2")
    assert results["steps"] == 40
    assert 0 < results["p50_s"] <= results["p99_s"]
