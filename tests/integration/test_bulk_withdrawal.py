"""Bulk withdrawal through the CLI and the dev server's visibility store, as in March 2020."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date

import pytest

from schemas.commands import AllocateToMunicipality
from schemas.enums import CaseStage
from tests.integration.conftest import RunningStack, eventually, stack_settings, start_stack
from workers.demo import decide_places, drive_household
from workers.embedded import settings_env
from workers.synthetic import generate

pytestmark = pytest.mark.integration

QUERY = "CaseStage IN ('allocated','accepted') AND MunicipalityNumber='1804'"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[RunningStack]:
    async for running in start_stack(stack_settings(tmp_path_factory.mktemp("bulk"))):
        yield running


def bosetting(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings_env(stack.settings)}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_withdraw_every_allocation_a_query_finds(stack: RunningStack):
    # Everyone allocated to Bodø, nobody accepted or settled yet.
    plans = [
        replace(
            plan,
            declined=[],
            allocation=AllocateToMunicipality(
                command_id=f"{plan.case_id}/allocate",
                municipality_number="1804",
                allocated_on=max(plan.interview.held_on, date(2020, 1, 2)),
            ),
            acceptance=None,
            settlement=None,
        )
        for plan in generate(12, seed=31, prefix="bulk")
    ]
    await decide_places(stack.places, plans)
    await asyncio.gather(*(drive_household(stack.cases, p) for p in plans))
    held = (await stack.places.ledger("1804", 2020)).reserved
    assert held == sum(len(p.grant.persons) for p in plans)

    async def all_visible() -> bool:
        return len(await stack.cases.case_ids(QUERY)) == len(plans)

    await eventually(all_visible, within_s=30, what="the cases to show in visibility")
    dry = await asyncio.to_thread(
        bosetting,
        stack,
        "cases",
        "withdraw",
        "--query",
        QUERY,
        "--on",
        "2020-12-31",
        "--reason",
        "travel_restrictions",
        "--dry-run",
    )
    assert dry.returncode == 0, dry.stderr
    assert f"{len(plans)} cases match" in dry.stdout
    run = await asyncio.to_thread(
        bosetting,
        stack,
        "cases",
        "withdraw",
        "--query",
        QUERY,
        "--on",
        "2020-12-31",
        "--reason",
        "travel_restrictions",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(plans)} withdrawn, 0 refused" in run.stdout
    for plan in plans:
        state = await stack.cases.state(plan.case_id)
        assert (state.stage, state.withdrawals) == (CaseStage.SETTLEMENT_READY, 1)
    assert (await stack.places.ledger("1804", 2020)).reserved == 0
