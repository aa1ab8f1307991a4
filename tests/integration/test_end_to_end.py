"""Settlement cases end to end on the real stack: Temporal dev server, SQL event log, Tansu
broker, projection worker. Every figure is checked against an independent batch computation."""

import asyncio
import signal
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.integration.conftest import RunningStack, eventually
from tests.oracle import as_comparable, oracle, oracle_stock
from tests.waiting import pause
from workers.cli.demo import event_log_count, report_from_event_log
from workers.figures.queries import projection_status, waiting_on, waiting_time
from workers.projection.store import ConsumerPosition
from workers.simulation.synthetic import generate

pytestmark = pytest.mark.integration

YEAR = (date(2020, 1, 1), date(2020, 12, 31))
STOCK_DAYS = (date(2020, 3, 31), date(2020, 12, 31))


async def caught_up(running: RunningStack) -> bool:
    status = await projection_status(running.projection)
    return status.applied_events >= running.expected_events


async def assert_figures_match_the_oracle(running: RunningStack) -> None:
    await eventually(lambda: caught_up(running), within_s=120, what="the projection to catch up")
    status = await projection_status(running.projection)
    logged = await event_log_count(running.register)
    # Exactly once: every event in the log applied, none twice, nothing unreadable.
    assert (status.applied_events, logged, status.dead_letters) == (
        running.expected_events,
        running.expected_events,
        0,
    )
    report = await waiting_time(running.projection, *YEAR)
    assert as_comparable(report) == oracle(running.driven, *YEAR)
    assert report == await report_from_event_log(running.register, *YEAR)
    for day in STOCK_DAYS:
        stock = await waiting_on(running.projection, day)
        assert {
            "waiting_in_reception": stock.waiting_in_reception,
            "median_wait_days": stock.median_wait_days,
            "waiting_abroad": stock.waiting_abroad,
        } == oracle_stock(running.driven, day)


async def test_projected_figures_equal_an_independent_batch_computation(sqlite_stack):
    plans = generate(60, seed=11, prefix="e2e")
    await sqlite_stack.drive(plans)
    sqlite_stack.driven += plans
    await assert_figures_match_the_oracle(sqlite_stack)
    total = (await waiting_time(sqlite_stack.projection, *YEAR)).group("total")
    assert total.settled > 60  # households of several persons


async def test_kill_9_of_the_projection_mid_run_changes_no_figure(sqlite_stack):
    plans = generate(80, seed=12, prefix="crash")
    before = (await projection_status(sqlite_stack.projection)).applied_events
    driving = asyncio.create_task(sqlite_stack.drive(plans))

    async def projection_busy() -> bool:
        return (await projection_status(sqlite_stack.projection)).applied_events > before + 20

    await eventually(projection_busy, within_s=120, what="the projection to start applying")
    old_pid = sqlite_stack.stack.kill("projection", signal.SIGKILL)
    await driving
    sqlite_stack.driven += plans
    await sqlite_stack.stack.wait_ready("projection")
    assert sqlite_stack.stack.components["projection"].process.pid != old_pid
    assert sqlite_stack.stack.components["projection"].restarts >= 1
    await assert_figures_match_the_oracle(sqlite_stack)


async def test_with_the_broker_stopped_for_a_minute_cases_complete_and_events_arrive_later(
    sqlite_stack,
):
    await assert_figures_match_the_oracle(sqlite_stack)  # settled state before the outage
    plans = generate(25, seed=13, prefix="outage")
    sqlite_stack.stack.kill("broker", signal.SIGSTOP)
    try:
        # Every step of every case completes while the broker answers nothing.
        await asyncio.wait_for(sqlite_stack.drive(plans), timeout=60)
        sqlite_stack.driven += plans
        assert await event_log_count(sqlite_stack.register) == sqlite_stack.expected_events
        status = await projection_status(sqlite_stack.projection)
        assert status.applied_events < sqlite_stack.expected_events
        await pause(60, "an outage longer than the producers' timeouts")
    finally:
        sqlite_stack.stack.kill("broker", signal.SIGCONT)
    await assert_figures_match_the_oracle(sqlite_stack)


async def test_the_broker_losing_its_data_loses_nothing_when_the_runbook_is_followed(
    sqlite_stack,
):
    """docs/runbooks/broker-data-lost.md, step by step: the embedded broker keeps its data in
    memory, so killing it loses both topics. Stop the projection, rebuild it from the event
    log, send the log again, start the projection: every figure is exact again, and reading
    the resent topic applies nothing twice."""
    from .conftest import cli

    plans = generate(30, seed=13, prefix="lost")
    await sqlite_stack.drive(plans)
    sqlite_stack.driven += plans
    await eventually(lambda: caught_up(sqlite_stack), within_s=120, what="the projection")
    stack = sqlite_stack.stack
    await stack.hold("projection")
    stack.kill("broker", signal.SIGKILL)  # the supervisor restarts it, empty
    await pause(1, "the supervisor notices the broker is gone")
    await stack.wait_ready("broker")
    rebuilt = await cli(sqlite_stack, "rebuild-projection", "--yes")
    assert f"rebuilt from {sqlite_stack.expected_events} logged events" in rebuilt
    resent = await cli(sqlite_stack, "republish", "--yes")
    assert f"{sqlite_stack.expected_events} events" in resent
    await stack.release("projection")
    await assert_figures_match_the_oracle(sqlite_stack)

    async def topic_read_again() -> bool:
        """The projection's positions cover every resent record of the new topic."""
        async with sqlite_stack.projection() as session:
            read = await session.scalar(
                select(func.coalesce(func.sum(ConsumerPosition.next_offset), 0)).where(
                    ConsumerPosition.consumer == sqlite_stack.settings.projection_group_id
                )
            )
        return int(read or 0) >= sqlite_stack.expected_events

    await eventually(topic_read_again, within_s=60, what="the resent topic to be read")
    await assert_figures_match_the_oracle(sqlite_stack)


async def test_after_a_broker_restart_every_new_event_reaches_the_topic(sqlite_stack):
    """Finding 23: the embedded broker comes back empty. The relay must provision the topic
    again, with its partitions, before it marks anything published; every event logged after
    the restart is then on the topic."""
    from aiokafka.admin import AIOKafkaAdminClient
    from sqlalchemy import select as sql_select

    from workers.platform.register import EventLogRow

    from .test_api_http import read_records

    stack = sqlite_stack.stack
    settings = sqlite_stack.settings
    stack.kill("broker", signal.SIGKILL)  # the supervisor restarts it, empty
    await pause(1, "the supervisor notices the broker is gone")
    await stack.wait_ready("broker")
    plans = generate(6, seed=31, prefix="reborn")
    await sqlite_stack.drive(plans)
    cases = {p.case_id for p in plans}
    async with sqlite_stack.register() as session:
        logged = {
            str(row.event_id)
            for row in (await session.scalars(sql_select(EventLogRow))).all()
            if row.case_id in cases
        }

    async def all_published() -> bool:
        async with sqlite_stack.register() as session:
            rows = (await session.scalars(sql_select(EventLogRow))).all()
        return all(r.published_at is not None for r in rows if r.case_id in cases)

    await eventually(all_published, within_s=60, what="the relay to publish the new events")
    on_topic = {
        dict(r.headers)["ce_id"].decode()
        for r in await read_records(settings.kafka_bootstrap_servers, settings.kafka_topic)
    }
    assert logged <= on_topic, f"{len(logged - on_topic)} published events are not on the topic"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([settings.kafka_topic])
    finally:
        await admin.close()
    assert len(described["partitions"]) == settings.kafka_partitions
