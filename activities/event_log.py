"""The activity that writes the SQL event log (its table is in ``workers.platform.register``),
inside the case's workflow step; the outbox publisher relays the rows to Kafka."""

from collections.abc import Callable

import structlog
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from schemas.ports import RECORD_CASE_EVENTS, RecordCaseEvents, RecordCaseEventsResult
from workers.platform.register import append_events, keep_dossier
from workers.platform.tracing import current_traceparent

_tracer = trace.get_tracer("bosetting.activities")
log = structlog.get_logger("event_log")


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
                if request.dossier is not None and request.events:
                    await keep_dossier(session, request.events[0].case_id, request.dossier)
            if self._on_append is not None:
                self._on_append()
            log.info(  # a person's record is labelled, not named, by the log processor
                "events recorded",
                workflow_id=activity.info().workflow_id,
                inserted=inserted,
                types=[e.type for e in request.events],
            )
        return RecordCaseEventsResult(inserted=inserted)
