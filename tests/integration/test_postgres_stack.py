"""The whole path with PostgreSQL 15 as the register and the projection store, and the
``bosetting metrics`` command reading it."""

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from datetime import date
from fractions import Fraction

import pytest

from tests.integration.conftest import (
    RunningStack,
    cli,
    eventually,
    stack_settings,
    start_stack,
)
from tests.integration.test_end_to_end import YEAR, assert_figures_match_the_oracle
from tests.oracle import oracle, oracle_stock
from workers.simulation.synthetic import generate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def postgres_stack(tmp_path_factory, postgres) -> AsyncIterator[RunningStack]:
    url = await postgres.new_database()
    settings = stack_settings(
        tmp_path_factory.mktemp("pg-stack"), register_database_url=url, projection_database_url=url
    )
    async for running in start_stack(settings):
        yield running


async def test_cases_reach_the_figures_through_postgresql(postgres_stack):
    plans = generate(40, seed=21, prefix="pg")
    await postgres_stack.drive(plans)
    postgres_stack.driven += plans
    await assert_figures_match_the_oracle(postgres_stack)


async def test_metrics_command_prints_the_projection_as_json(postgres_stack):
    await assert_figures_match_the_oracle(postgres_stack)
    document = json.loads(await cli(postgres_stack, "metrics", "--year", "2020", "--json"))
    printed = {g["group"]: g for g in document["groups"]}
    expected = oracle(postgres_stack.driven, *YEAR)
    steering = expected.pop("steering")
    assert {
        m["id"]: (m["numerator"], m["denominator"])
        for m in document["steering"]
        if m["denominator"]
    } == steering
    for group, figures in expected.items():
        assert printed[group]["settled"] == figures["settled"]
        assert printed[group]["within_6_months"] == figures["within_6_months"]
        assert Fraction(printed[group]["mean_wait_days"]) == figures["mean_wait_days"]
    assert printed["total"]["share_within_6_months"] == pytest.approx(
        expected["total"]["within_6_months"] / expected["total"]["settled"]
    )


async def test_metrics_slice_by_county_and_print_csv(postgres_stack):
    await assert_figures_match_the_oracle(postgres_stack)
    by_county = await cli(postgres_stack, "metrics", "--period", "2020", "--by", "county")
    assert "Trøndelag" in by_county
    assert "SP13.4" in by_county
    header, *rows = (
        await cli(postgres_stack, "metrics", "--period", "2020-Q4", "--csv")
    ).splitlines()
    assert header.startswith("period_start,period_end,as_of,version,kind,id")
    assert any(
        row.startswith("2020-10-01,2020-12-31,,settlement/1,steering,SP13.1") for row in rows
    )


async def test_waiting_prints_the_stock_the_oracle_counts(postgres_stack):
    await assert_figures_match_the_oracle(postgres_stack)
    printed = json.loads(await cli(postgres_stack, "waiting", "--on", "2020-12-31", "--json"))
    expected = oracle_stock(postgres_stack.driven, date(2020, 12, 31))
    assert printed["waiting_in_reception"] == expected["waiting_in_reception"]
    assert printed["waiting_abroad"] == expected["waiting_abroad"]


async def test_a_candidate_version_of_the_definitions_is_compared(postgres_stack):
    await assert_figures_match_the_oracle(postgres_stack)
    compared = await cli(
        postgres_stack, "metrics", "--period", "2020", "--compare", "settlement/2", "--json"
    )
    differences = {d["id"]: d for d in json.loads(compared)}
    # The candidate reads "from reception" to include private addresses: K1 cannot change.
    assert not differences["K1"]["changed"]
    assert differences["SP13.2"]["candidate"]["version"] == "settlement/2"


async def test_the_monitor_serves_the_figures_and_the_projection_its_own_work(postgres_stack):
    """The figures and the read model's progress once, from the monitor; each projection
    process its own counters."""
    plans = generate(3, seed=61, prefix="gauges")
    await postgres_stack.drive(plans)
    postgres_stack.driven += plans
    await assert_figures_match_the_oracle(postgres_stack)
    s = postgres_stack.settings

    def scrape(port: int) -> str:
        url = f"http://127.0.0.1:{port}/metrics"
        return str(urllib.request.urlopen(url, timeout=5).read().decode())

    async def gauges_current() -> bool:
        text = await asyncio.to_thread(scrape, s.monitor_port)
        wanted = f"bosetting_projection_applied_events {float(postgres_stack.expected_events)}"
        return wanted in text and "bosetting_figure_settled_persons" in text

    await eventually(gauges_current, within_s=30, what="the monitor's gauges of the figures")
    own = await asyncio.to_thread(scrape, s.projection_metrics_port)
    assert "bosetting_figure_" not in own  # computed once, by the monitor
    counted = re.search(
        rf'bosetting_projection_events_total{{consumer="{s.projection_group_id}"}} (\S+)', own
    )
    assert counted is not None
    assert float(counted.group(1)) > 0
    assert "bosetting_projection_batch_seconds_bucket" in own


def test_metrics_command_rejects_a_bad_period_naming_the_option(tmp_path):
    env = {**os.environ, "BOSETTING_STATE_DIR": str(tmp_path)}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "workers.cli.main",
            "metrics",
            "--from",
            "2020-13-01",
            "--to",
            "2020-12-31",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "Invalid value for --from" in out.stderr
    assert "must be a date, YYYY-MM-DD" in out.stderr
    assert not (tmp_path / "projection.db").exists()
