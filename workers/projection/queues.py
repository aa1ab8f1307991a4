"""Work queues: the case register (case_register.py) read as each role works — a reception
centre's households, the households waiting for allocation, allocations overdue for an answer,
cases near or past their settlement target, a municipality's inbox and accepted households,
its settled persons' qualification deadlines, and breached or stuck cases.

Each queue is a filter and a stable sort (ending in the row's id, so a page never repeats or
skips a row), served a page at a time with an opaque cursor: the last row's sort key. Deadline
states are judged against ``today`` as the query runs. Who may read a queue, and what each row
shows them, is the API's to decide (workers/api/routers/queues.py); this module only reads."""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.deadlines import WARNING_LEAD_DAYS, open_target_state, settled_verdict
from schemas.enums import CaseStage, DeadlineState
from workers.projection.store import RegisteredCase, RegisteredPerson

C, P = RegisteredCase, RegisteredPerson
QueueName = Literal[
    "reception",
    "allocation",
    "reply-overdue",
    "targets",
    "inbox",
    "accepted",
    "qualification",
    "breached",
    "stuck",
]


@dataclass(frozen=True)
class Queue:
    name: QueueName
    summary: str
    sorts: tuple[str, ...]
    """The sorts it offers, the first the default."""
    place: Literal["reception_centre", "municipality", None] = None
    """The place the queue is scoped to, if any."""
    persons: bool = False
    """Rows are persons (qualification records), not cases."""


QUEUES: dict[str, Queue] = {
    q.name: q
    for q in (
        Queue(
            "reception",
            "A reception centre's open households, nearest settlement target first",
            ("target",),
            place="reception_centre",
        ),
        Queue(
            "allocation",
            "Settlement-ready households waiting for allocation",
            ("waiting", "target"),
        ),
        Queue("reply-overdue", "Allocations past the municipality's reply date", ("reply",)),
        Queue(
            "targets", "Open cases past or within 30 days of their settlement target", ("target",)
        ),
        Queue(
            "inbox",
            "Allocations awaiting the municipality's answer (anonymised profile)",
            ("allocated",),
            place="municipality",
        ),
        Queue(
            "accepted",
            "Accepted households awaiting settlement registration",
            ("accepted",),
            place="municipality",
        ),
        Queue(
            "qualification",
            "Settled adults whose programme or Norwegian-training deadline is near or passed",
            ("due",),
            place="municipality",
            persons=True,
        ),
        Queue("breached", "Open cases past their settlement target", ("target",)),
        Queue("stuck", "Open cases with no step for a long time", ("last-step",)),
    )
}

_SORT_COLUMNS: dict[str, Any] = {
    "target": C.target_date,
    "waiting": C.ready_on,
    "reply": C.reply_due_on,
    "allocated": C.allocated_on,
    "accepted": C.accepted_on,
    "last-step": C.last_step_at,
    "due": P.next_due_on,
}


@dataclass(frozen=True)
class Filters:
    place: str | None = None
    """The reception centre or municipality the rows must be in."""
    stage: CaseStage | None = None
    deadline: DeadlineState | None = None
    include_protected: bool = True
    """False: leave out households with a protected member (an uncleared reader who named a
    place that is not their own: the row would tell where the household lives)."""
    stuck_before: datetime | None = None


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


class BadCursor(ValueError):
    pass


def deadline_state(row: dict[str, Any], today: date) -> DeadlineState | None:
    """The settlement target's state as of ``today``."""
    target: date | None = row["target_date"]
    if target is None:
        return None
    if row["stage"] == CaseStage.SETTLED.value:
        return settled_verdict(target, row["last_settled_on"])
    if row["stage"] == CaseStage.EXITED.value:
        return None
    return open_target_state(target, today)


def _deadline_filter(state: DeadlineState, today: date) -> ColumnElement[bool]:
    warn_from = today + timedelta(days=WARNING_LEAD_DAYS)
    match state:
        case DeadlineState.BREACHED:
            return and_(C.open.is_(True), C.target_date < today)
        case DeadlineState.APPROACHING:
            return and_(C.target_date >= today, C.target_date <= warn_from)
        case DeadlineState.ON_TRACK:
            return C.target_date > warn_from
        case _:  # met
            return and_(C.stage == CaseStage.SETTLED.value, C.last_settled_on <= C.target_date)


def _where(queue: Queue, filters: Filters, today: date) -> list[ColumnElement[bool]]:
    if queue.persons:
        conditions: list[ColumnElement[bool]] = [
            P.settled_on.is_not(None),
            P.next_due_on.is_not(None),
            P.next_due_on <= today + timedelta(days=WARNING_LEAD_DAYS),
        ]
        if filters.place is not None:
            conditions.append(P.municipality_number == filters.place)
        if not filters.include_protected:
            conditions.append(P.protected.is_(False))
        return conditions
    match queue.name:
        case "reception":
            conditions = [C.open.is_(True)]
        case "allocation":
            conditions = [C.stage == CaseStage.SETTLEMENT_READY.value]
        case "reply-overdue":
            conditions = [
                C.stage == CaseStage.ALLOCATED.value,
                or_(C.reply_overdue.is_(True), C.reply_due_on < today),
            ]
        case "targets":
            conditions = [
                C.open.is_(True),
                C.target_date <= today + timedelta(days=WARNING_LEAD_DAYS),
            ]
        case "inbox":
            conditions = [C.stage == CaseStage.ALLOCATED.value]
        case "accepted":
            conditions = [C.stage == CaseStage.ACCEPTED.value]
        case "breached":
            conditions = [C.open.is_(True), C.target_date < today]
        case "stuck":
            before = filters.stuck_before or datetime.now(UTC)
            conditions = [C.open.is_(True), C.last_step_at < before]
        case _:
            raise ValueError(queue.name)
    if filters.place is not None:
        column = C.reception_centre if queue.place == "reception_centre" else C.municipality_number
        conditions.append(column == filters.place)
    if filters.stage is not None:
        conditions.append(C.stage == filters.stage.value)
    if filters.deadline is not None:
        conditions.append(_deadline_filter(filters.deadline, today))
    if not filters.include_protected:
        conditions.append(C.protected.is_(False))
    return conditions


def encode_cursor(sort_value: Any, key: str) -> str:
    value = sort_value.isoformat() if isinstance(sort_value, date | datetime) else sort_value
    raw = json.dumps([value, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        value, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if value is not None:  # a day (YYYY-MM-DD) or a moment, as encode_cursor wrote it
            value = (date if len(value) == 10 else datetime).fromisoformat(value)
        if not isinstance(key, str):
            raise TypeError
        return value, key
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor: is not a cursor this queue gave out") from exc


async def read_queue(
    projection: async_sessionmaker[AsyncSession],
    queue: Queue,
    filters: Filters,
    *,
    sort: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
) -> Page:
    """One page of ``queue``: rows in the sort's order (missing values last), then by id."""
    today = today or datetime.now(UTC).date()
    sort = sort or queue.sorts[0]
    column = _SORT_COLUMNS[sort]
    key = P.person_id if queue.persons else C.case_id
    table = P.__table__ if queue.persons else C.__table__
    query = select(table).where(*_where(queue, filters, today))
    if cursor is not None:
        value, last = _decode_cursor(cursor)
        if value is None:  # the missing values come last, ordered by id
            query = query.where(column.is_(None), key > last)
        else:  # a row-value comparison: a range of the queue's index, however deep the page
            query = query.where(or_(tuple_(column, key) > tuple_(value, last), column.is_(None)))
    # Missing values last: PostgreSQL's indexes keep that order (ascending, nulls last).
    query = query.order_by(column.asc().nulls_last(), key).limit(limit + 1)
    async with projection() as session:
        found = [dict(row._mapping) for row in (await session.execute(query)).all()]
    rows = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last_row = rows[-1]
        next_cursor = encode_cursor(last_row[column.key], last_row[key.key])
    return Page(rows, next_cursor)


async def case_of_person(
    projection: async_sessionmaker[AsyncSession], person_id: str
) -> dict[str, Any] | None:
    """The register's row of the case a person belongs to (exact person id only)."""
    async with projection() as session:
        found = (
            await session.execute(
                select(C.__table__)
                .join(P.__table__, P.case_id == C.case_id)
                .where(P.person_id == person_id)
            )
        ).first()
    return dict(found._mapping) if found else None
