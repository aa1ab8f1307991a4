"""What every event-sourced workflow here shares: appending its events to the event log
through the activity, and sleeping durably until a business day."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.events import CaseEvent, EventData
    from schemas.ports import (
        RECORD_CASE_EVENTS,
        CaseDossier,
        RecordCaseEvents,
        RecordCaseEventsResult,
    )

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    # Unlimited attempts: an accepted step waits for the database to come back rather than
    # being lost. Bad data cannot reach here: pydantic and the validators stop it earlier.
    maximum_attempts=0,
)


async def record_events(
    stream_id: str,
    last_sequence: int,
    events: Sequence[tuple[date, EventData]],
    traceparent: str | None = None,
    dossier: Callable[[int], CaseDossier] | None = None,
    registered_at: datetime | None = None,
    registered_each: Sequence[datetime | None] | None = None,
) -> list[CaseEvent]:
    """Append events to the event log, all or none; returns them as written.

    Ids and recording times are minted here, in the workflow, so that a retried activity
    writes the very same events (the log skips ids it already has). An imported step's
    events keep the time the old register registered it (``registered_at``, or one per event
    in ``registered_each``; never later than now)."""
    now = workflow.now()
    registered = list(registered_each or [registered_at] * len(events))
    case_events = [
        CaseEvent(
            event_id=workflow.uuid4(),
            case_id=stream_id,
            sequence=last_sequence + 1 + i,
            business_date=business_date,
            recorded_at=now if moment is None else min(moment, now),
            data=data,
        )
        for i, ((business_date, data), moment) in enumerate(zip(events, registered, strict=True))
    ]
    await workflow.execute_activity(
        RECORD_CASE_EVENTS,
        RecordCaseEvents(
            events=case_events,
            traceparent=traceparent,
            dossier=dossier(last_sequence + len(case_events)) if dossier else None,
        ),
        result_type=RecordCaseEventsResult,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RECORD_RETRY,
    )
    return case_events


async def sleep_until(day: date, unless: Callable[[], bool]) -> bool:
    """Wait, durably, until ``day`` begins (UTC) unless ``unless()`` becomes true first.
    Returns whether it did."""
    remaining = datetime.combine(day, time(), UTC) - workflow.now()
    if remaining > timedelta(0):
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(unless, timeout=remaining)
    return unless()


async def watch_deadline(
    *,
    due: Callable[[], date | None],
    done: Callable[[], bool],
    closed: Callable[[], bool],
    lock: asyncio.Lock,
    lapse: Callable[[date], Awaitable[None]],
) -> None:
    """An updatable deadline: call ``lapse`` (under ``lock``) the day after ``due()`` unless
    ``done()`` first. When the due date moves the watch starts over; a due date already past
    when it becomes known lapses nothing (history raises no alerts). Ends when ``closed()``."""
    while not closed():
        current = due()

        def moved(current: date | None = current) -> bool:
            return closed() or due() != current

        def moved_or_done(current: date | None = current) -> bool:
            return moved(current) or done()

        if current is not None and not done():
            lapses_on = current + timedelta(days=1)
            if workflow.now().date() < lapses_on and not await sleep_until(
                lapses_on, moved_or_done
            ):
                async with lock:
                    if not moved_or_done():
                        await lapse(current)
        await workflow.wait_condition(moved)
