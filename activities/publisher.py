"""The outbox publisher: relays the SQL event log to the Kafka topic, at least once.

The same relay serves any outbox table with a ``position`` and a ``published_at`` column (the
municipality feed has one too): give it the table and how a row becomes a Kafka record.

Workflows never wait for Kafka. Rows are sent in log order, keyed by case, and marked
published only after the broker acknowledged them; a failure leaves them unpublished and
they are sent again (consumers dedupe by event id). With several publishers on PostgreSQL,
``FOR UPDATE SKIP LOCKED`` keeps them from sending the same rows at the same time.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.envelope import KafkaRecord, Seal, to_kafka
from schemas.events import CaseEvent
from workers.platform.register import EventLogRow

log = structlog.get_logger("publisher")


class EventSink(Protocol):
    """Where published events go: a Kafka producer in production, a fake in unit tests."""

    async def send_all(self, records: list[KafkaRecord]) -> None:
        """Send every record and return once the broker acknowledged all of them."""

    async def close(self) -> None: ...


def logged_events(seal: Seal | None = None) -> Callable[[EventLogRow], KafkaRecord]:
    """How an event-log row becomes its record on the case-events topic: sealed when the
    topic keys are set (always, in the processes: ``Settings.topic_seal``)."""

    def record(row: EventLogRow) -> KafkaRecord:
        return to_kafka(CaseEvent.model_validate_json(row.payload), row.traceparent, seal)

    return record


class OutboxPublisher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        connect: Callable[[], Awaitable[EventSink]],
        *,
        table: Any = EventLogRow,
        to_record: Callable[[Any], KafkaRecord] = logged_events(),
        pending: Any = None,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._connect = connect
        self._table = table
        self._to_record = to_record
        self._pending = table.published_at.is_(None) if pending is None else pending
        """Which rows still go out: by default every unpublished one."""
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()
        self._sink: EventSink | None = None
        self.published = 0

    def wake(self) -> None:
        """Called after an append so new events go out without waiting for the poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Send one batch of unpublished events; returns how many were published."""
        if self._sink is None:
            self._sink = await self._connect()
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(self._table)
                    .where(self._pending)
                    .order_by(self._table.position)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            records = [self._to_record(r) for r in rows]
            await self._sink.send_all(records)
            await session.execute(
                update(self._table)
                .where(self._table.position.in_([r.position for r in rows]))
                .values(published_at=datetime.now(UTC))
            )
        self.published += len(rows)
        return len(rows)

    async def unpublished(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(self._table).where(self._pending)
            )
        return int(count or 0)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            # Cleared before the batch is read, not after: an append that wakes the relay
            # while it is sending is then not lost (it would wait out the idle poll).
            self._wake.clear()
            try:
                sent = await self.publish_pending()
                backoff = 0.5
            except Exception as exc:  # broker or database unavailable: keep the rows, retry
                log.warning(
                    "publish failed; will retry",
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    retry_in_s=backoff,
                )
                await self._reset_sink()
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            if sent:
                log.debug("published", events=sent)
                continue
            waiter: asyncio.Future[object] = asyncio.ensure_future(self._wake.wait())
            await _sleep_or_stop(stop, self._idle_poll, also=waiter)
            waiter.cancel()
        await self._reset_sink()

    async def _reset_sink(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            try:
                await sink.close()
            except Exception as exc:
                log.debug("closing the sink failed", error=type(exc).__name__)


async def _sleep_or_stop(
    stop: asyncio.Event, seconds: float, also: "asyncio.Future[object] | None" = None
) -> None:
    waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
    if also is not None:
        waits.append(also)
    _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        if task is not also:
            task.cancel()
