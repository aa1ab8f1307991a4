"""Applying a batch of Kafka records to the read model, exactly once.

The batch's rows, its consumer positions and which events it applied are written in one
transaction. A redelivered offset is skipped by partition position (here), a re-published
event (new offset, same place in its stream) by stream position (streams.py), and an
unreadable record goes to the dead-letter table; all three still advance the partition
position, so nothing blocks the partition and nothing is counted twice. What the events
become is the read model's (read_model.py; the municipality feed has its own, feed.py).
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.envelope import EnvelopeError, Seal, from_kafka
from schemas.events import CaseEvent
from workers.projection.batch import BatchResult, EventsApplier, Record
from workers.projection.read_model import apply_new_events
from workers.projection.store import ConsumerPosition, DeadLetter


async def apply_batch(
    session: AsyncSession,
    consumer: str,
    topic: str,
    records: Sequence[Record],
    high_water: dict[int, int],
    apply: EventsApplier | None = None,
    *,
    seal: Seal | None = None,
) -> BatchResult:
    """Skip what this consumer's positions say it has read, dead-letter what cannot be read,
    and hand the rest to ``apply`` (the projection's figures by default; the municipality
    feed has its own) in the same transaction as the new positions."""
    result = BatchResult()
    now = datetime.now(UTC)
    positions = {
        p.partition: p
        for p in (
            await session.scalars(
                select(ConsumerPosition).where(
                    ConsumerPosition.consumer == consumer, ConsumerPosition.topic == topic
                )
            )
        ).all()
    }
    fresh: list[tuple[Record, CaseEvent]] = []
    for record in records:
        position = positions.get(record.partition)
        if position is not None and record.offset < position.next_offset:
            result.skipped_offsets += 1
            continue
        if position is None:
            position = _first_position(session, consumer, topic, record.partition, now)
            positions[record.partition] = position
        position.next_offset = record.offset + 1
        position.updated_at = now
        try:
            fresh.append((record, from_kafka(list(record.headers), record.value, seal)))
        except EnvelopeError as exc:
            result.dead_letters += 1
            session.add(dead_letter(topic, record, str(exc), now))
    for partition, mark in high_water.items():
        if partition in positions:
            positions[partition].high_water = max(mark, positions[partition].next_offset)

    located = [(record.partition, record.offset, event) for record, event in fresh]
    result = await (apply or apply_new_events)(session, located, result)
    if not result.refused:
        return result
    by_place = {(record.partition, record.offset): record for record, _ in fresh}
    for partition, offset, why in result.refused:
        result.dead_letters += 1
        session.add(dead_letter(topic, by_place[partition, offset], why, now))
    return result


async def set_aside(
    session: AsyncSession, consumer: str, topic: str, record: Record, error: str
) -> BatchResult:
    """Dead-letter a record without applying it, and move the position past it."""
    now = datetime.now(UTC)
    position = await session.get(ConsumerPosition, (consumer, topic, record.partition))
    if position is None:
        position = _first_position(session, consumer, topic, record.partition, now)
    if record.offset < position.next_offset:
        return BatchResult(skipped_offsets=1)
    position.next_offset, position.updated_at = record.offset + 1, now
    session.add(dead_letter(topic, record, error, now))
    return BatchResult(dead_letters=1)


def _first_position(
    session: AsyncSession, consumer: str, topic: str, partition: int, now: datetime
) -> ConsumerPosition:
    """A partition this consumer has never read: it starts at offset 0."""
    position = ConsumerPosition(
        consumer=consumer,
        topic=topic,
        partition=partition,
        next_offset=0,
        high_water=0,
        updated_at=now,
    )
    session.add(position)
    return position


LETTER_BYTES = 65_536
"""A dead letter keeps at most this much of a record's value and headers."""


def dead_letter(topic: str, record: Record, error: str, now: datetime) -> DeadLetter:
    """A record for a human to look at, with its coordinates; bounded in size whatever came."""
    headers = json.dumps({k[:200]: v[:LETTER_BYTES].hex() for k, v in record.headers[:64]})
    cut = len(record.value) > LETTER_BYTES or len(headers) > 2 * LETTER_BYTES
    return DeadLetter(
        topic=topic,
        partition=record.partition,
        offset=record.offset,
        error=(error + (" (kept in part: too large)" if cut else ""))[:2000],
        headers=headers[: 2 * LETTER_BYTES],
        value=record.value[:LETTER_BYTES],
        received_at=now,
    )
