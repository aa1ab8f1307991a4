"""Work queues and find-by-person, served from the case register (no Temporal query): each
role's lists of cases, a page at a time, and the case an exact person id belongs to; and the
allocation suggestions for a household of the allocation queue. Every listing is audited,
naming the records it returned."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from schemas.enums import CaseStage, DeadlineState, Role
from workers.allocation.suggestions import suggest
from workers.api.access import (
    CASE_READERS,
    QUEUE_READERS,
    SUGGESTION_READERS,
    CaseRow,
    PersonRow,
    case_row,
    own_place,
    person_row,
    row_in_scope,
)
from workers.api.audit import record_read
from workers.api.auth import Principal
from workers.api.deps import (
    Caller,
    CaseIdPath,
    Ctx,
    Guard,
    IsoDate,
    PersonIdPath,
    Purpose,
    case_in_scope,
    found_in_scope,
    invalid,
    outcome,
    require,
)
from workers.api.models import ERRORS
from workers.projection.queues import (
    QUEUES,
    BadCursor,
    Filters,
    QueueName,
    case_of_person,
    deadline_state,
    read_queue,
)

router = APIRouter()


class QueuePage(BaseModel):
    queue: str
    rows: list[CaseRow] | list[PersonRow]
    next_cursor: str | None
    """Pass it as ``cursor`` for the next page; null on the last page."""


@router.get("/queues/{queue}", tags=["queues"], responses=ERRORS)
async def work_queue(
    queue: Annotated[QueueName, Path(description="Which work queue")],
    principal: Caller,
    context: Ctx,
    purpose: Purpose,
    place: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_-]{1,32}$",
            description="The reception centre or municipality number of a queue scoped to "
            "one (caseworkers and administrators); staff of a centre or municipality get "
            "their own",
        ),
    ] = None,
    stage: Annotated[CaseStage | None, Query(description="Only cases at this stage")] = None,
    deadline: Annotated[
        DeadlineState | None, Query(description="Only cases whose settlement target is so")
    ] = None,
    sort: Annotated[str | None, Query(description="One of the queue's sorts")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> QueuePage:
    """One page of a work queue, in a stable order. Households with a protected member are
    shown as in the case view: without their places unless you are cleared, and left out of
    a queue you narrow to a place that is not your own."""
    spec = QUEUES[queue]
    require(principal, QUEUE_READERS[queue], f"read the {queue} queue")
    if sort is not None and sort not in spec.sorts:
        raise invalid("query", "sort", f"must be one of {', '.join(spec.sorts)}")
    mine = own_place(principal)
    scoped = principal.role in (Role.RECEPTION, Role.MUNICIPALITY)
    if scoped and place is not None and place != mine:
        raise HTTPException(403, "a reception centre or municipality reads its own queues")
    if spec.place is not None:
        place = mine if scoped else place
        if place is None:
            raise invalid("query", "place", "is required for this queue")
    elif place is not None:
        raise invalid("query", "place", "this queue is not scoped to a place")
    filters = Filters(
        place=place,
        stage=stage,
        deadline=deadline,
        include_protected=_may_show_protected(principal, spec.persons, place, scoped),
        stuck_before=datetime.now(UTC) - context.stuck_after,
    )
    today = datetime.now(UTC).date()
    try:
        page = await read_queue(
            context.projection, spec, filters, sort=sort, limit=limit, cursor=cursor, today=today
        )
    except BadCursor as exc:
        raise invalid("query", "cursor", str(exc)) from None
    if spec.persons:
        rows: list[CaseRow] | list[PersonRow] = [person_row(r, today) for r in page.rows]
        returned = [f"person/{r['person_id']}" for r in page.rows]
        views = {"granted"}
    else:
        case_rows = [case_row(principal, r, deadline_state(r, today), today) for r in page.rows]
        rows = case_rows
        returned = [f"case/{r['case_id']}" for r in page.rows]
        views = {outcome(r.view) for r in case_rows}
    await record_read(
        context.register,
        principal,
        action=f"queue.{queue}",
        resource=f"queue/{queue}",
        purpose=purpose,
        outcome=_listing_outcome(views),
        returned=returned,
    )
    return QueuePage(queue=queue, rows=rows, next_cursor=page.next_cursor)


@router.get("/persons/{person_id}/case", tags=["queues"], responses=ERRORS)
async def find_by_person(
    person_id: PersonIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
) -> CaseRow:
    """The case an exact person id belongs to, as the work queues show it. A person whose
    household has a protected member is found by cleared readers only."""
    require(principal, CASE_READERS, "find cases")
    row = await found_in_scope(
        guard,
        lambda: case_of_person(context.projection, person_id),
        lambda found: (
            row_in_scope(principal, found) and (principal.cleared or not found["protected"])
        ),
    )
    today = datetime.now(UTC).date()
    found = case_row(principal, row, deadline_state(row, today), today)
    await record_read(
        context.register,
        principal,
        action="person.case",
        resource=f"person/{person_id}",
        purpose=purpose,
        outcome=outcome(found.view),
        returned=[f"case/{found.case_id}"],
    )
    return found


def _may_show_protected(
    principal: Principal, persons: bool, place: str | None, scoped: bool
) -> bool:
    """Whether a queue may list households with a protected member to this reader. Cleared
    readers see them; others see them redacted, as in the case view — but not in a queue
    narrowed to a place that is not their own, whose list would tell where one lives, and not
    as persons (a qualification record of a protected household is for cleared readers)."""
    if principal.cleared:
        return True
    if persons:
        return False
    return place is None or scoped


def _listing_outcome(views: set[str]) -> Literal["granted", "redacted", "profile"]:
    if "redacted" in views:
        return "redacted"
    if "profile" in views:
        return "profile"
    return "granted"


class SuggestionRow(BaseModel):
    municipality_number: str
    score: float
    reasons: list[str]
    places_left: int
    share_used: float | None
    unmet_needs: list[str]


@router.get("/cases/{case_id}/suggestions", tags=["queues"], responses=ERRORS)
async def allocation_suggestions(
    case_id: CaseIdPath,
    purpose: Purpose,
    principal: Caller,
    context: Ctx,
    guard: Guard,
    on: Annotated[IsoDate | None, Query(description="Allocation date (default today)")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[SuggestionRow]:
    """Municipalities with room for the household, best first, with the reasons for each —
    one call from a row of the allocation queue (``bosetting cases suggest`` does the same).
    Reasons can name where close family lives: for a household with a protected member, a
    cleared reader only."""
    require(principal, SUGGESTION_READERS, "read allocation suggestions")
    state = await case_in_scope(context, guard, principal, case_id)
    if not principal.cleared and any(p.protected_identity for p in state.persons):
        raise HTTPException(403, "suggestions for this household need a cleared token")
    day = on or datetime.now(UTC).date()
    ledgers = await context.places.ledgers(day.year) if context.places else []
    found = suggest(state, ledgers, day, context.profiles, limit)
    await record_read(
        context.register,
        principal,
        action="case.suggestions",
        resource=f"case/{case_id}",
        purpose=purpose,
        outcome="granted",
    )
    return [SuggestionRow.model_validate(s.as_json()) for s in found]
