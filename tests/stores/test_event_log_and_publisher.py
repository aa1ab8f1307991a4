"""The event log and the outbox publisher on real SQLite and PostgreSQL, with a fake sink."""

import asyncio
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from temporalio.testing import ActivityEnvironment

from activities.event_log import EventLogActivities
from activities.publisher import OutboxPublisher
from schemas.envelope import KafkaRecord, from_kafka
from schemas.events import CaseEvent, SettlementInterviewHeld
from schemas.ports import RecordCaseEvents
from tests.waiting import eventually
from workers.platform.register import append_events


def events(case_id: str, n: int) -> list[CaseEvent]:
    return [
        CaseEvent(
            event_id=uuid4(),
            case_id=case_id,
            sequence=i + 1,
            business_date=date(2020, 1, 1),
            recorded_at=datetime.now(UTC),
            data=SettlementInterviewHeld(),
        )
        for i in range(n)
    ]


class RecordingSink:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[KafkaRecord] = []
        self.fail = fail

    async def send_all(self, records: list[KafkaRecord]) -> None:
        if self.fail:
            raise ConnectionError("broker unavailable")
        self.records.extend(records)

    async def close(self) -> None:
        return None


async def test_a_retried_activity_appends_nothing_twice(register):
    activity = EventLogActivities(register)
    batch = RecordCaseEvents(events=events("case-0001", 3))
    run = ActivityEnvironment()  # the SDK's harness: an activity context, no server
    first = await run.run(activity.record_case_events, batch)
    again = await run.run(activity.record_case_events, batch)
    assert (first.inserted, again.inserted) == (3, 0)


async def test_publisher_sends_in_log_order_and_marks_published(register):
    batch = events("case-0001", 4) + events("case-0002", 2)
    async with register.begin() as session:
        await append_events(session, batch)
    sink = RecordingSink()

    async def connect() -> RecordingSink:
        return sink

    publisher = OutboxPublisher(register, connect, batch_size=4)
    assert await publisher.publish_pending() == 4
    assert await publisher.publish_pending() == 2
    assert await publisher.publish_pending() == 0
    assert await publisher.unpublished() == 0
    assert [from_kafka(r.headers, r.value).event_id for r in sink.records] == [
        e.event_id for e in batch
    ]


async def test_a_failed_send_leaves_events_unpublished_for_the_next_attempt(register):
    batch = events("case-0001", 3)
    async with register.begin() as session:
        await append_events(session, batch)
    sinks = [RecordingSink(fail=True), RecordingSink()]

    async def connect() -> RecordingSink:
        return sinks[0]

    publisher = OutboxPublisher(register, connect)
    with pytest.raises(ConnectionError):
        await publisher.publish_pending()
    assert await publisher.unpublished() == 3
    sinks.pop(0)
    publisher._sink = None  # as run() does after a failure: reconnect
    assert await publisher.publish_pending() == 3
    assert len(sinks[0].records) == 3


async def test_republish_sends_the_log_again_from_a_position_in_order(database_url, register):
    """After the broker lost its data: every event from a position goes out again, in log
    order, once; the feed entries are marked for their relay too."""
    from workers.operations.rebuild import republish
    from workers.platform import db
    from workers.projection.store import FeedEvent

    batch = events("case-0001", 3) + events("case-0002", 2)
    async with register.begin() as session:
        await append_events(session, batch)
    sink = RecordingSink()

    async def connect() -> RecordingSink:
        return sink

    publisher = OutboxPublisher(register, connect)
    assert await publisher.publish_pending() == 5
    await db.upgrade(database_url, db.PROJECTION)
    engine = db.make_engine(database_url)
    projection = db.sessionmaker(engine)
    try:
        async with projection.begin() as session:
            session.add(
                FeedEvent(
                    municipality_number="0301",
                    event_id=batch[0].event_id,
                    event_type="MunicipalityAllocated",
                    recorded_at=datetime.now(UTC),
                    cloud_event="{}",
                    published_at=datetime.now(UTC),
                )
            )
        assert await republish(register, projection, from_position=3) == (3, 1)
        sink.records.clear()
        assert await publisher.publish_pending() == 3
        assert [from_kafka(r.headers, r.value).event_id for r in sink.records] == [
            e.event_id for e in batch[2:]
        ]
        assert await publisher.publish_pending() == 0
        async with projection() as session:
            entry = await session.get(FeedEvent, 1)
        assert entry is not None
        assert entry.published_at is None
    finally:
        await engine.dispose()


async def test_status_finds_streams_with_gaps_in_the_event_log(register):
    """The log's own completeness: a row lost from the register shows as a gap."""
    from sqlalchemy import delete

    from tests.stores.test_projection_apply import case_events
    from workers.operations.status import _streams_with_gaps
    from workers.platform.register import EventLogRow, append_events

    async with register.begin() as session:
        await append_events(session, case_events("case-0001") + case_events("case-0002"))
    async with register() as session:
        assert await _streams_with_gaps(session) == 0
    async with register.begin() as session:
        await session.execute(
            delete(EventLogRow).where(EventLogRow.case_id == "case-0002", EventLogRow.sequence == 2)
        )
    async with register() as session:
        assert await _streams_with_gaps(session) == 1


async def test_status_finds_events_the_topic_brought_that_the_log_has_lost(register, projection_db):
    """The last rows of a stream lost from the register leave no gap; the projection, which
    applied them from the topic, still knows them."""
    from sqlalchemy import delete

    from tests.stores.test_projection_apply import apply, case_events, records
    from workers.operations.status import _logged_through, _streams_beyond, _streams_with_gaps
    from workers.platform.register import EventLogRow, append_events

    events = case_events("case-0001")
    async with register.begin() as session:
        await append_events(session, events)
    await apply(projection_db, records(events))

    async def beyond() -> int:
        async with register() as session:
            logged = await _logged_through(session)
        async with projection_db() as session:
            return await _streams_beyond(session, logged)

    assert await beyond() == 0
    async with register.begin() as session:
        await session.execute(delete(EventLogRow).where(EventLogRow.sequence == 4))
    async with register() as session:
        assert await _streams_with_gaps(session) == 0  # a lost tail leaves no gap
    assert await beyond() == 1


async def test_an_append_while_the_relay_is_sending_goes_out_without_waiting_the_poll(register):
    """The relay is woken by every append; one that lands while it is busy with a batch must
    not be lost to the idle poll (here 30 s)."""
    sink = RecordingSink()
    late = events("case-late", 2)

    async def connect() -> RecordingSink:
        return sink

    class Racing(OutboxPublisher):
        raced = False

        async def publish_pending(self) -> int:
            sent = await super().publish_pending()
            if not self.raced:  # the batch found nothing; an append and its wake come now
                self.raced = True
                async with register.begin() as session:
                    await append_events(session, late)
                self.wake()
            return sent

    publisher = Racing(register, connect, idle_poll_seconds=30)
    stop = asyncio.Event()
    running = asyncio.create_task(publisher.run(stop))
    try:
        await eventually(lambda: len(sink.records) == 2, within_s=5, what="the late append sent")
    finally:
        stop.set()
        await running
