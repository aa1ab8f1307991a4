"""The monitor's checks of what only Temporal and the workers know, on the real dev server and
the real register: activities that keep failing, workflow tasks that keep failing, cases that
stopped moving. Each check is seen going bad and coming back."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from schemas.commands import RecordSettlementApplication
from schemas.enums import CaseType
from tests.factories import household
from tests.integration.conftest import RunningStack, cli, eventually, stack_settings, start_stack
from workers.operations.activity_health import FailureRecorder
from workers.operations.status import Check, Probe
from workers.platform.temporal import connect

pytestmark = pytest.mark.integration

QUEUE = "monitor-checks"
healthy = asyncio.Event()
"""Set by the test: the flaky activity's next attempt succeeds."""


@activity.defn
async def flaky() -> str:
    if not healthy.is_set():
        raise ConnectionError("the downstream service is away")
    return "done"


@workflow.defn(sandboxed=False)
class FlakyWorkflow:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            flaky,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200),
                                     backoff_coefficient=1.0),
        )  # fmt: skip


@workflow.defn(sandboxed=False)
class BrokenWorkflow:
    """A bug: its workflow task fails on every attempt until it is terminated."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("a bug in the workflow code")


@pytest.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[RunningStack]:
    async for running in start_stack(stack_settings(tmp_path_factory.mktemp("checks"))):
        yield running


async def _check(probe: Probe, name: str) -> Check:
    return next(c for c in (await probe.status()).checks if c.name == name)


async def _worker(client: Client, stack: RunningStack) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[FlakyWorkflow, BrokenWorkflow],
        activities=[flaky],
        interceptors=[FailureRecorder(stack.register)],
    )


async def test_an_activity_that_keeps_failing_is_named_until_it_recovers(stack: RunningStack):
    client = await connect(stack.settings)
    probe = Probe(stack.settings)
    try:
        assert (await _check(probe, "activities")).verdict == "OK"
        async with await _worker(client, stack):
            wid = f"flaky-{uuid.uuid4().hex[:8]}"
            handle = await client.start_workflow(FlakyWorkflow.run, id=wid, task_queue=QUEUE)

            async def named() -> bool:
                check = await _check(probe, "activities")
                return check.verdict == "WARN" and f"{wid} flaky" in check.detail

            await eventually(named, within_s=30, what="the failing activity in the status")
            check = await _check(probe, "activities")
            assert "ConnectionError" in check.detail
            assert "away" not in check.detail  # the type, never the message
            healthy.set()
            assert await handle.result() == "done"
            assert (await _check(probe, "activities")).verdict == "OK"
    finally:
        await probe.close()


async def test_a_workflow_whose_tasks_keep_failing_is_named(stack: RunningStack):
    client = await connect(stack.settings)
    probe = Probe(stack.settings)
    try:
        assert (await _check(probe, "workflow tasks")).verdict == "OK"
        async with await _worker(client, stack):
            wid = f"broken-{uuid.uuid4().hex[:8]}"
            handle = await client.start_workflow(BrokenWorkflow.run, id=wid, task_queue=QUEUE)

            async def named() -> bool:
                check = await _check(probe, "workflow tasks")
                return check.verdict == "WARN" and wid in check.detail

            # The server marks it after several failed attempts, with backoff: about a minute.
            await eventually(named, within_s=150, what="the failing workflow in the status")
            await handle.terminate("test over")

            async def cleared() -> bool:
                return (await _check(probe, "workflow tasks")).verdict == "OK"

            await eventually(cleared, within_s=30, what="the check to clear")
    finally:
        await probe.close()


async def test_cases_that_took_no_step_for_the_configured_time_are_stuck(stack: RunningStack):
    grant = household("stuck-1", case_type=CaseType.PRIVATE_ADDRESS)
    await stack.cases.grant_permit(grant)
    before_step = datetime.now(UTC)
    applied = RecordSettlementApplication(command_id="stuck-1/apply", applied_on=grant.permit_date)
    await stack.cases.execute("stuck-1", applied)
    after_step = datetime.now(UTC)
    patient = Probe(stack.settings)  # the default: 30 days
    impatient = Probe(stack.settings.model_copy(update={"monitor_stuck_after": timedelta(0)}))
    try:

        async def stepped() -> bool:  # LastStepAt is the step's time, not the opening's
            query = f"LastStepAt >= '{before_step.isoformat()}'"
            query += f" AND LastStepAt <= '{after_step.isoformat()}'"
            return "stuck-1" in await stack.cases.case_ids(query)

        await eventually(stepped, within_s=30, what="the step's time in visibility")
        assert (await _check(patient, "stuck cases")).verdict == "OK"
        stuck = await _check(impatient, "stuck cases")
        assert stuck.verdict == "WARN", stuck
        assert "stuck-1" in stuck.detail
    finally:
        await patient.close()
        await impatient.close()


async def test_registration_adds_only_what_a_namespace_lacks(stack: RunningStack):
    """A namespace made by an earlier release lacks the newest attribute: registering again
    adds it, with its type, beside the ones it has (which the server refuses to re-add)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        ListSearchAttributesRequest,
        RemoveSearchAttributesRequest,
    )

    client = await connect(stack.settings)
    ops = client.operator_service
    await ops.remove_search_attributes(
        RemoveSearchAttributesRequest(namespace=client.namespace, search_attributes=["LastStepAt"])
    )

    async def listed() -> dict[str, int]:
        found = await ops.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        return dict(found.custom_attributes)

    assert "LastStepAt" not in await listed()
    await cli(stack, "search-attributes")
    after = await listed()
    assert after["LastStepAt"] == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
    assert after["CaseStage"] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
