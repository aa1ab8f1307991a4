"""Rebuilding the read model from the SQL event log, for when the broker has lost its data
(the embedded broker keeps it in memory only) or a projection table changed.

The event log is the system of record: every event, in log order. The rebuild empties the
read model (report snapshots and dead letters stay: they are records of the past), applies
every event of the log exactly as the projection would, and forgets the consumer positions.
The projection then reads whatever the topic holds from its start and skips everything the
rebuild already applied (by each event's position in its stream). Stop the projection worker
while it runs."""

from collections.abc import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.events import CaseEvent
from workers.platform.register import EventLogRow
from workers.projection.read_model import apply_events
from workers.projection.store import (
    ConsumerPosition,
    PersonWaitVersion,
    PlacesTakenChange,
    PlacesVersion,
    QualificationRecordVersion,
    RegisteredCase,
    RegisteredPerson,
    SettledPersonVersion,
    StreamProgress,
)

FROM_EVENT_LOG = -1
"""The partition recorded for events applied from the event log; the offset is the position."""
CHUNK = 2000


async def count_events(register: async_sessionmaker[AsyncSession]) -> int:
    async with register() as session:
        return int(await session.scalar(select(func.count()).select_from(EventLogRow)) or 0)


async def rebuild_from_event_log(
    register: async_sessionmaker[AsyncSession],
    projection: async_sessionmaker[AsyncSession],
    on_progress: Callable[[int], None] = lambda applied: None,
) -> int:
    """Returns how many events were applied."""
    async with projection.begin() as session:
        for table in (
            SettledPersonVersion,
            PersonWaitVersion,
            QualificationRecordVersion,
            PlacesVersion,
            PlacesTakenChange,
            RegisteredCase,
            RegisteredPerson,
            StreamProgress,
            ConsumerPosition,
        ):
            await session.execute(delete(table))
    applied, last = 0, 0
    while True:
        async with register() as session:
            rows = (
                await session.execute(
                    select(EventLogRow.position, EventLogRow.payload)
                    .where(EventLogRow.position > last)
                    .order_by(EventLogRow.position)
                    .limit(CHUNK)
                )
            ).all()
        if not rows:
            return applied
        events = [
            (FROM_EVENT_LOG, position, CaseEvent.model_validate_json(payload))
            for position, payload in rows
        ]
        async with projection.begin() as session:
            result = await apply_events(session, events)
        applied += result.applied
        last = rows[-1][0]
        on_progress(len(rows))


async def republish(
    register: async_sessionmaker[AsyncSession],
    projection: async_sessionmaker[AsyncSession],
    from_position: int = 0,
) -> tuple[int, int]:
    """Mark the event log from ``from_position`` and every municipality-feed entry as not yet
    published, so that the outbox relays send them again (to a broker that lost its data).
    Consumers skip what they have applied, by stream position. Returns (events, feed entries)."""
    from workers.projection.store import FeedEvent

    async with register.begin() as session:
        events = await session.execute(
            update(EventLogRow)
            .where(EventLogRow.position >= from_position, EventLogRow.published_at.is_not(None))
            .values(published_at=None)
        )
    async with projection.begin() as session:
        entries = await session.execute(
            update(FeedEvent).where(FeedEvent.published_at.is_not(None)).values(published_at=None)
        )
    return int(events.rowcount or 0), int(entries.rowcount or 0)  # type: ignore[attr-defined]
