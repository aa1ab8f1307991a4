"""The database fails under the projection and the register: a record it refuses, a server
that goes away and comes back, a server that crashes. Real SQLite and PostgreSQL; the
PostgreSQL that crashes is a server of this module's own."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from tests.postgres import PostgresServer
from tests.waiting import holds, pause
from workers.platform import db
from workers.platform.register import EventLogRow, append_events
from workers.projection.batch import BatchResult, Located
from workers.projection.consumer import BatchWriter
from workers.projection.read_model import apply_new_events
from workers.projection.store import ConsumerPosition, DeadLetter

from .test_projection_apply import TOPIC, case_events, records
from .test_projection_poison import settled_2020

GROUP = "test-projection"


async def refusing_case_bad(session, events: Located, result: BatchResult) -> BatchResult:
    """The figures' applier, and for one case a write every database refuses (an integer
    past 64 bits): a record that cannot be stored, as a real one once could not."""
    if any(e.case_id == "case-bad" for _, _, e in events):
        await session.execute(
            insert(ConsumerPosition).values(
                consumer="x",
                topic="x",
                partition=0,
                next_offset=2**70,
                high_water=0,
                updated_at=datetime.now(UTC),
            )
        )
    return await apply_new_events(session, events, result)


async def test_a_record_the_database_refuses_is_dead_lettered_and_the_rest_stored(projection_db):
    good, bad = case_events("case-0001"), case_events("case-bad")
    recs = records([*good[:2], bad[0], *good[2:]])
    writer = BatchWriter(projection_db, GROUP, TOPIC, refusing_case_bad)
    result = await writer.write(recs, {}, asyncio.Event())
    assert result is not None
    assert (result.applied, result.dead_letters) == (4, 1)
    async with projection_db() as session:
        [letter] = (await session.scalars(select(DeadLetter))).all()
        position = await session.get(ConsumerPosition, (GROUP, TOPIC, 0))
    assert (letter.offset, position.next_offset) == (2, 5)
    assert letter.error.startswith("the database refused it")
    assert await settled_2020(projection_db) == 2


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_an_outage_is_waited_out_and_nothing_is_lost(own_postgres):
    url = await own_postgres.new_database()
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    try:
        own_postgres.crash()
        writer = BatchWriter(sessions, GROUP, TOPIC, max_backoff_s=0.5)
        writing = asyncio.create_task(writer.write(records(case_events()), {}, asyncio.Event()))
        await holds(lambda: not writing.done(), for_s=2, what="the writer waiting, not exited")
        own_postgres.restart()
        result = await asyncio.wait_for(writing, timeout=60)
        assert result is not None
        assert result.applied == 4
        assert await settled_2020(sessions) == 2
    finally:
        await engine.dispose()


async def test_a_stop_during_an_outage_stores_nothing_and_returns(own_postgres):
    url = await own_postgres.new_database()
    engine = db.make_engine(url)
    try:
        own_postgres.crash()
        stop = asyncio.Event()
        writer = BatchWriter(db.sessionmaker(engine), GROUP, TOPIC, max_backoff_s=0.5)
        writing = asyncio.create_task(writer.write(records(case_events()), {}, stop))
        await pause(1, "the writer meets the outage before it is told to stop")
        stop.set()
        assert await asyncio.wait_for(writing, timeout=10) is None
    finally:
        own_postgres.restart()
        await engine.dispose()


async def test_a_crash_of_postgresql_loses_no_acknowledged_event(own_postgres):
    """Every append that returned is there after an immediate stop: the register is the
    system of record, and its events may already be on the topic."""
    url = await own_postgres.new_database()
    await db.upgrade(url, db.REGISTER)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    acknowledged = 0
    try:
        for n in range(40):
            async with sessions.begin() as session:
                await append_events(session, case_events(f"case-{n:04d}"))
            acknowledged += 4
        own_postgres.crash()
        await engine.dispose()
        own_postgres.restart()
        async with sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(EventLogRow))
        assert stored == acknowledged
    finally:
        await engine.dispose()
