"""The SQL event log: the system of record for what happened to every case.

Append-only and unique by event id. Rows are written by the ``record_case_events``
activity inside the case's workflow step and relayed to Kafka by the outbox publisher
(``published_at`` marks what has gone out)."""

import uuid
from collections.abc import Callable
from datetime import date, datetime

import structlog
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from temporalio import activity

from schemas.events import CaseEvent
from schemas.ports import RECORD_CASE_EVENTS, RecordCaseEvents, RecordCaseEventsResult

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


_tracer = trace.get_tracer("bosetting.activities")
log = structlog.get_logger("event_log")


class RegisterBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventLogRow(RegisterBase):
    __tablename__ = "event_log"

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    case_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer())
    event_type: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date())
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text())
    """The whole CaseEvent as JSON: enough to re-publish it after a broker is lost."""
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    traceparent: Mapped[str | None] = mapped_column(String(55))
    """The W3C trace context of the step that recorded it, carried on to Kafka (CloudEvents'
    distributed tracing extension) so a trace runs from the API call to the projection."""

    __table_args__ = (
        Index("ix_event_log_case", "case_id", "sequence"),
        Index(
            "ix_event_log_unpublished",
            "position",
            sqlite_where=published_at.is_(None),
            postgresql_where=published_at.is_(None),
        ),
    )


def row_for(event: CaseEvent, traceparent: str | None = None) -> dict[str, object]:
    return {
        "traceparent": traceparent,
        "event_id": event.event_id,
        "case_id": event.case_id,
        "sequence": event.sequence,
        "event_type": event.type,
        "business_date": event.business_date,
        "recorded_at": event.recorded_at,
        "payload": event.model_dump_json(),
    }


async def append_events(
    session: AsyncSession, events: list[CaseEvent], traceparent: str | None = None
) -> int:
    """Insert events, skipping ids already present (a retried activity repeats its events).
    Returns how many rows were new."""
    if not events:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ids = [e.event_id for e in events]
    before = await session.scalar(
        select(func.count()).select_from(EventLogRow).where(EventLogRow.event_id.in_(ids))
    )
    stmt = insert(EventLogRow).on_conflict_do_nothing(index_elements=["event_id"])
    await session.execute(stmt, [row_for(e, traceparent) for e in events])
    return len(events) - int(before or 0)


def current_traceparent() -> str | None:
    """The current span's W3C ``traceparent``, or None outside a sampled trace."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


class EventLogActivities:
    """Activities that write the event log. ``on_append`` wakes the outbox publisher."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        on_append: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_append = on_append

    @activity.defn(name=RECORD_CASE_EVENTS)
    async def record_case_events(self, request: RecordCaseEvents) -> RecordCaseEventsResult:
        # The step's own trace when the command brought one (an update's activity otherwise
        # runs in the trace that started the case): its span, its rows, its Kafka records.
        parent = (
            TraceContextTextMapPropagator().extract({"traceparent": request.traceparent})
            if request.traceparent
            else None
        )
        with _tracer.start_as_current_span("record events", context=parent):
            async with self._sessions.begin() as session:
                inserted = await append_events(session, request.events, current_traceparent())
            if self._on_append is not None:
                self._on_append()
            log.info(  # a person's record is labelled, not named, by the log processor
                "events recorded",
                workflow_id=activity.info().workflow_id,
                inserted=inserted,
                types=[e.type for e in request.events],
            )
        return RecordCaseEventsResult(inserted=inserted)
