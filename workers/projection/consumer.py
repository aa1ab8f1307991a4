"""The projection worker's Kafka loop (the municipality feed's too: same loop, its own
consumer group and its own way of applying events).

Auto-commit is off: the truth about how far the projection has read is in its own database,
committed with its rows. On every partition assignment it seeks to those stored positions
(the pattern of aiokafka's local-state consumer example). Committing offsets to Kafka too is
only so that standard lag tooling can see the group.

Each batch is one span, linked to the traces of the steps that recorded its events (their
``ce_traceparent``), so a trace shows when its events reached the figures.
"""

import asyncio
import gc
import time
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from opentelemetry import trace
from opentelemetry.trace import Link
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from schemas.envelope import Seal
from workers.projection.apply import apply_batch, set_aside
from workers.projection.batch import BatchResult, EventsApplier, Record
from workers.projection.instruments import BatchMetrics
from workers.projection.store import ConsumerPosition

log = structlog.get_logger("projection")
_tracer = trace.get_tracer("bosetting.projection")
_propagator = TraceContextTextMapPropagator()
MAX_LINKS = 128
"""OpenTelemetry keeps 128 links a span by default; the rest of a big batch goes unlinked."""


def trace_links(records: list[Record]) -> list[Link]:
    """Links to the traces that recorded these events, from their ``ce_traceparent``."""
    links = []
    for record in records:
        for key, value in record.headers:
            if key == "ce_traceparent":
                parent = _propagator.extract({"traceparent": value.decode()})
                context = trace.get_current_span(parent).get_span_context()
                if context.is_valid:
                    links.append(Link(context))
                break
        if len(links) == MAX_LINKS:
            break
    return links


def tune_garbage_collector() -> None:
    """For a process that turns batches of thousands of events into rows.

    Each batch allocates hundreds of thousands of short-lived containers, which reference
    counting frees; CPython's cycle collector, at its default thresholds (700, 10, 10), also
    walks them and, every hundred collections, everything alive. That cost the projection a
    quarter of its time (`make bench`). Collecting the young generation every 100,000
    allocations keeps the collector but takes it off the hot path."""
    gc.set_threshold(100_000, 50, 100)


class _SeekToStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, projection: "ProjectionConsumer") -> None:
        self._projection = projection

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Nothing to flush: every batch is committed to the database before the next fetch.
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._projection.seek_to_stored(assigned)


class ProjectionConsumer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        max_records: int = 2000,
        apply: EventsApplier | None = None,
        metrics: BatchMetrics | None = None,
        security: Mapping[str, Any] | None = None,
        seal: Seal | None = None,
    ) -> None:
        """``seal``: opens the sealed records of the topic (the topic keys)."""
        self._sessions = sessions
        self._seal = seal
        self._metrics = metrics
        self._apply_events = apply
        self._topic = topic
        self._group_id = group_id
        self._max_records = max_records
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            **(security or {}),
        )
        self.applied = 0
        self._stop = asyncio.Event()

    async def seek_to_stored(self, assigned: set[TopicPartition]) -> None:
        async with self._sessions() as session:
            stored = {
                p.partition: p.next_offset
                for p in (
                    await session.scalars(
                        select(ConsumerPosition).where(
                            ConsumerPosition.consumer == self._group_id,
                            ConsumerPosition.topic == self._topic,
                        )
                    )
                ).all()
            }
        for tp in assigned:
            if tp.partition in stored:
                self._consumer.seek(tp, stored[tp.partition])
            else:
                await self._consumer.seek_to_beginning(tp)
        log.info("partitions assigned", partitions=sorted(tp.partition for tp in assigned))

    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        self._stop = stop
        self._consumer.subscribe([self._topic], listener=_SeekToStoredPositions(self))
        await self._consumer.start()
        try:
            if on_ready is not None:
                on_ready()
            while not stop.is_set():
                batch = await self._consumer.getmany(timeout_ms=500, max_records=self._max_records)
                if not batch:
                    continue
                records = [
                    Record(m.partition, m.offset, list(m.headers or ()), m.value or b"")
                    for messages in batch.values()
                    for m in messages
                ]
                high_water = {
                    tp.partition: mark
                    for tp in batch
                    if (mark := self._consumer.highwater(tp)) is not None
                }
                with _tracer.start_as_current_span(
                    f"apply {self._topic}",
                    kind=trace.SpanKind.CONSUMER,
                    links=trace_links(records),
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.consumer.group.name": self._group_id,
                        "messaging.batch.message_count": len(records),
                    },
                ):
                    await self._apply(records, high_water)
                if stop.is_set():
                    break  # the batch may be unstored: its records are read again next time
                await self._commit_to_kafka(batch)
        finally:
            await self._consumer.stop()

    async def _apply(self, records: list[Record], high_water: dict[int, int]) -> None:
        started = time.perf_counter()
        result = await BatchWriter(
            self._sessions, self._group_id, self._topic, self._apply_events, seal=self._seal
        ).write(records, high_water, self._stop)
        if result is None:
            return  # stopped while the database was away: nothing stored, nothing lost
        self.applied += result.applied
        if self._metrics is not None:
            self._metrics.observe(self._group_id, result.applied, time.perf_counter() - started)
        log.debug("batch applied", records=len(records), **vars(result))

    async def _commit_to_kafka(self, batch: dict[TopicPartition, list]) -> None:  # type: ignore[type-arg]
        offsets = {tp: OffsetAndMetadata(msgs[-1].offset + 1, "") for tp, msgs in batch.items()}
        try:
            await self._consumer.commit(offsets)
        except Exception as exc:  # informational only; the database holds the real position
            log.debug("kafka offset commit failed", error=type(exc).__name__)


class KeptRacing(RuntimeError):
    """Five rounds lost to another consumer: not a bad record; the process restarts."""


OUTAGES = (OperationalError, InterfaceError, OSError, TimeoutError)
"""The database is away (down, restarting, unreachable, locked): wait, then the same batch
again. Any other error writing a batch is a record the database will not take."""


class BatchWriter:
    """Stores a batch, whatever happens: a race with another consumer is run again, an
    outage is waited out with backoff (never an exit, which a supervisor would only restart
    onto the same batch), and a batch the database refuses is split until the record it
    refuses is alone, which goes to the dead letters with its coordinates."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        consumer: str,
        topic: str,
        apply: EventsApplier | None = None,
        *,
        max_backoff_s: float = 30.0,
        seal: Seal | None = None,
    ) -> None:
        self._sessions = sessions
        self._consumer = consumer
        self._topic = topic
        self._apply = apply
        self._max_backoff = max_backoff_s
        self._seal = seal

    async def write(
        self, records: list[Record], high_water: dict[int, int], stop: asyncio.Event
    ) -> BatchResult | None:
        """The batch's result, or None if ``stop`` came while the database was away."""
        backoff = 0.5
        while True:
            try:
                return await self._split_until_stored(records, high_water)
            except OUTAGES as exc:
                log.warning(
                    "database unavailable; waiting",
                    error=type(exc).__name__,
                    retry_in_s=backoff,
                )
                try:
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                    return None
                except TimeoutError:
                    backoff = min(backoff * 2, self._max_backoff)

    async def _split_until_stored(
        self, records: list[Record], high_water: dict[int, int]
    ) -> BatchResult:
        try:
            return await self._once(records, high_water)
        except (*OUTAGES, KeptRacing):
            raise
        except Exception as exc:
            if len(records) == 1:
                return await self._set_aside(records[0], exc)
            log.warning("batch refused by the database; splitting", error=type(exc).__name__)
            middle = len(records) // 2
            first = await self._split_until_stored(records[:middle], high_water)
            second = await self._split_until_stored(records[middle:], high_water)
            return first.add(second)

    async def _once(self, records: list[Record], high_water: dict[int, int]) -> BatchResult:
        for attempt in range(5):
            try:
                async with self._sessions.begin() as session:
                    return await apply_batch(
                        session,
                        self._consumer,
                        self._topic,
                        records,
                        high_water,
                        self._apply,
                        seal=self._seal,
                    )
            except (IntegrityError, StaleDataError):
                # Another member applied this partition first (during a rebalance): its
                # transaction won, so run the batch again: the stored positions now skip it.
                log.info("batch raced another consumer; retrying", attempt=attempt + 1)
        raise KeptRacing("projection batch kept conflicting with another consumer")

    async def _set_aside(self, record: Record, exc: Exception) -> BatchResult:
        log.error(
            "record refused by the database; dead-lettered",
            partition=record.partition,
            offset=record.offset,
            error=type(exc).__name__,
        )
        async with self._sessions.begin() as session:
            return await set_aside(
                session,
                self._consumer,
                self._topic,
                record,
                f"the database refused it: {type(exc).__name__}",
            )
