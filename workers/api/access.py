"""What each role may do and see: one rule per scope, one way to redact. Which roles may take
each step is declared with the step (workflows/steps.py).

- Reception staff act on and read the households of their own reception centre.
- Directorate caseworkers act on and read every case.
- A municipality acts on and reads the households allocated to it; until it accepts, it
  sees only their anonymised profile (household size, ages, needs), never who they are.
- Operations read figures, status and health, never a case.
- Administrators may do everything.

A case outside the caller's scope answers exactly as a case that does not exist (404), so
that nobody learns which ids exist. Protected-identity persons, and anything that reveals
where their household is, are shown only to holders of a ``cleared`` token; the others see
them as "a protected member" and count them in sizes and totals only."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from schemas.commands import Command, CorrectSettlementDate, RegisterSettlement
from schemas.enums import (
    CaseStage,
    CaseType,
    Category,
    DeadlineState,
    EducationLevel,
    ExitReason,
    Role,
    ServiceNeed,
)
from schemas.places import PlacesLedger
from schemas.qualification import QualificationState
from schemas.state import CaseState
from workers.api.auth import Principal
from workflows.rules import NO_SETTLEMENT_TO_CORRECT, NOT_A_MEMBER

R, C, M, A = Role.RECEPTION, Role.CASEWORKER, Role.MUNICIPALITY, Role.ADMINISTRATOR


GRANT_ROLES = frozenset({C, A})
"""Who opens a case (registers the permit decision)."""
PLACES_DECIDERS = frozenset({M, C, A})
"""Who records a council's decision on places: the municipality, its own; the directorate
(an adjusted request, or on the municipality's behalf)."""
CASE_READERS = frozenset({R, C, M, A})
FIGURE_READERS = frozenset(Role)
"""Figures hold no personal data: every role may read them."""
STATUS_READERS = frozenset({Role.OPERATIONS, C, A})
RECORD_READERS = frozenset({M, C, A})
"""Who reads an adult's qualification record."""
FEED_READERS = frozenset({M, C, A})
"""A municipality reads its own feed; caseworkers and administrators any."""
AUDIT_READERS = frozenset({A})
SUGGESTION_READERS = frozenset({C, A})
"""Who asks where a household could be settled: those who allocate."""


def in_scope(principal: Principal, state: CaseState) -> bool:
    """May this caller know the case exists?"""
    match principal.role:
        case Role.ADMINISTRATOR | Role.CASEWORKER:
            return True
        case Role.RECEPTION:
            return state.reception_centre == principal.reception_centre
        case Role.MUNICIPALITY:
            return state.municipality_number == principal.municipality_number
    return False


def person_in_scope(principal: Principal, record: QualificationState) -> bool:
    """May this caller know the record exists? A record that would tell where a protected
    person lives (theirs, or a household member's) exists for cleared callers only."""
    if record.protected and not principal.cleared:
        return False
    match principal.role:
        case Role.ADMINISTRATOR | Role.CASEWORKER:
            return True
        case Role.MUNICIPALITY:
            return record.municipality_number == principal.municipality_number
    return False


def profile_only(principal: Principal, state: CaseState) -> bool:
    """A municipality that has not accepted sees the anonymised profile only."""
    return principal.role is Role.MUNICIPALITY and state.accepted_on is None


# -- views --------------------------------------------------------------------------------


class PersonView(BaseModel):
    person_id: str | None
    """None for a protected-identity person shown to a reader who is not cleared."""
    birth_date: date | None
    protected_identity: bool
    settled_on: date | None


class CaseView(BaseModel):
    """A case as staff see it (``redacted`` when it has a protected-identity person and the
    reader is not cleared: those persons and the household's whereabouts are left out)."""

    view: Literal["full", "redacted"]
    case_id: str
    case_type: CaseType
    stage: CaseStage
    permit_date: date
    persons: list[PersonView]
    household_size: int
    reception_centre: str | None
    municipality_number: str | None
    close_family_municipality: str | None
    education_level: EducationLevel | None
    service_needs: list[ServiceNeed]
    competence_mapped_on: date | None
    interview_held_on: date | None
    allocated_on: date | None
    accepted_on: date | None
    reply_due_on: date | None
    planned_settlement_on: date | None
    target_date: date
    deadline_state: DeadlineState
    category: Category | None
    exit_reason: ExitReason | None


class ProfileView(BaseModel):
    """What a municipality sees of a household allocated to it before it accepts."""

    view: Literal["profile"]
    case_id: str
    case_type: CaseType
    stage: CaseStage
    household_size: int
    ages: list[int]
    """Ages in whole years on the allocation date, of the members who are not protected."""
    education_level: EducationLevel | None
    service_needs: list[ServiceNeed]
    allocated_on: date | None
    reply_due_on: date | None


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _hidden(principal: Principal, state: CaseState) -> bool:
    return not principal.cleared and any(p.protected_identity for p in state.persons)


def case_view(principal: Principal, state: CaseState) -> CaseView | ProfileView:
    hidden = _hidden(principal, state)
    if profile_only(principal, state):
        on = state.allocated_on or state.permit_date
        return ProfileView(
            view="profile",
            case_id=state.case_id,
            case_type=state.case_type,
            stage=state.stage,
            household_size=len(state.persons),
            ages=sorted(
                (_age(p.birth_date, on) for p in state.persons if not p.protected_identity),
                reverse=True,
            ),
            education_level=state.education_level,
            service_needs=state.service_needs,
            allocated_on=state.allocated_on,
            reply_due_on=state.reply_due_on,
        )
    persons = [
        PersonView(
            person_id=None if hidden and p.protected_identity else p.person_id,
            birth_date=None if hidden and p.protected_identity else p.birth_date,
            protected_identity=p.protected_identity,
            settled_on=None
            if hidden and p.protected_identity
            else (s.settled_on if (s := state.settled.get(p.person_id)) else None),
        )
        for p in state.persons
    ]
    return CaseView(
        view="redacted" if hidden else "full",
        case_id=state.case_id,
        case_type=state.case_type,
        stage=state.stage,
        permit_date=state.permit_date,
        persons=persons,
        household_size=len(state.persons),
        reception_centre=None if hidden else state.reception_centre,
        municipality_number=None if hidden else state.municipality_number,
        close_family_municipality=None if hidden else state.close_family_municipality,
        education_level=state.education_level,
        service_needs=state.service_needs,
        competence_mapped_on=state.competence_mapped_on,
        interview_held_on=state.interview_held_on,
        allocated_on=state.allocated_on,
        accepted_on=state.accepted_on,
        reply_due_on=state.reply_due_on,
        planned_settlement_on=state.planned_settlement_on,
        target_date=state.target_date,
        deadline_state=state.deadline_state,
        category=state.category,
        exit_reason=state.exit_reason,
    )


LOCATION_KEYS = frozenset(
    {"municipality_number", "reception_centre", "close_family_municipality", "reservation_id"}
)


def redact_event_data(
    principal: Principal, state: CaseState, data: dict[str, Any]
) -> dict[str, Any]:
    """An event's data as this reader may see it: for a reader who is not cleared, a case
    with a protected-identity person loses the persons' ids and its whereabouts."""
    if not _hidden(principal, state):
        return data
    protected = {p.person_id for p in state.persons if p.protected_identity}
    scrubbed: dict[str, Any] = _scrub(data, protected)
    return scrubbed


def _scrub(value: Any, protected: set[str]) -> Any:
    if isinstance(value, dict):
        if value.get("protected_identity") is True or value.get("person_id") in protected:
            return {"protected_identity": True}
        return {
            k: None if k in LOCATION_KEYS else _scrub(v, protected)
            for k, v in value.items()
            if k not in protected
        }
    if isinstance(value, list):
        return [_scrub(v, protected) for v in value if not (isinstance(v, str) and v in protected)]
    return value


def hidden_member_named(principal: Principal, state: CaseState, cmd: Command) -> str | None:
    """The refusal for a caller without clearance whose command names a protected member:
    the very answer the case gives for an id that is no member of it, so that no answer
    (nor its wording) confirms that a hidden id is real. None when nothing hidden is named."""
    if not _hidden(principal, state):
        return None
    protected = {p.person_id for p in state.persons if p.protected_identity}
    if isinstance(cmd, RegisterSettlement):
        named = {x.person_id for x in cmd.settlements}
        return NOT_A_MEMBER if named & protected else None
    if isinstance(cmd, CorrectSettlementDate):
        return NO_SETTLEMENT_TO_CORRECT if cmd.person_id in protected else None
    return None


def places_view(principal: Principal, ledger: PlacesLedger) -> PlacesLedger:
    """A municipality's places as this reader may see them (see PlacesLedger.without_protected)."""
    return ledger if principal.cleared else ledger.without_protected()


# -- work queues (workers/projection/queues.py) ----------------------------------------------

OPS = Role.OPERATIONS
QUEUE_READERS: dict[str, frozenset[Role]] = {
    "reception": frozenset({R, C, A}),
    "allocation": frozenset({C, A}),
    "reply-overdue": frozenset({C, A}),
    "targets": frozenset({C, A}),
    "inbox": frozenset({M, C, A}),
    "accepted": frozenset({M, C, A}),
    "qualification": frozenset({M, C, A}),
    "breached": frozenset({OPS, C, A}),
    "stuck": frozenset({OPS, C, A}),
}
"""Who reads each queue. Reception staff and municipalities read their own place's queues;
operations read breached and stuck cases, without their places."""


def own_place(principal: Principal) -> str | None:
    """The place a scoped role's queues are about: its reception centre or municipality."""
    return principal.reception_centre or principal.municipality_number


class CaseRow(BaseModel):
    """A case in a work queue, as this reader may see it."""

    view: Literal["full", "redacted", "profile", "operations"]
    case_id: str
    case_type: CaseType
    stage: CaseStage
    household_size: int
    settled_persons: int
    protected_member: bool
    """A member has a protected identity (shown as a flag, never who or where)."""
    category: Category | None = None
    reception_centre: str | None = None
    municipality_number: str | None = None
    permit_date: date | None = None
    ready_on: date | None = None
    days_waiting: int | None = None
    """Days since the household became settlement-ready (or since its permit, before)."""
    target_date: date | None = None
    deadline_state: DeadlineState | None = None
    allocated_on: date | None = None
    reply_due_on: date | None = None
    reply_overdue: bool = False
    accepted_on: date | None = None
    planned_on: date | None = None
    last_event: str | None = None
    last_step_at: datetime | None = None


class PersonRow(BaseModel):
    """An adult's qualification deadlines in a municipality's queue."""

    person_id: str
    case_id: str
    settled_on: date | None
    municipality_number: str | None
    programme_start_due: date | None
    programme_started_on: date | None
    norwegian_start_due: date | None
    norwegian_started_on: date | None
    norwegian_completion_due: date | None
    norwegian_concluded_on: date | None
    next_due_on: date | None
    overdue: bool


def row_in_scope(principal: Principal, row: dict[str, Any]) -> bool:
    """May this caller know the case in this register row exists? As ``in_scope``."""
    match principal.role:
        case Role.ADMINISTRATOR | Role.CASEWORKER:
            return True
        case Role.RECEPTION:
            return bool(row["reception_centre"] == principal.reception_centre)
        case Role.MUNICIPALITY:
            return bool(row["municipality_number"] == principal.municipality_number)
    return False


def case_row(
    principal: Principal, row: dict[str, Any], deadline: DeadlineState | None, today: date
) -> CaseRow:
    """A register row as this reader may see it, by the rules of ``case_view``: a
    municipality that has not accepted sees the profile; operations see no places; a reader
    who is not cleared sees no places of a household with a protected member."""
    common = {
        "case_id": row["case_id"],
        "case_type": row["case_type"],
        "stage": row["stage"],
        "household_size": row["members"],
        "settled_persons": row["settled"],
        "protected_member": row["protected"],
    }
    if principal.role is Role.MUNICIPALITY and row["accepted_on"] is None:
        return CaseRow(
            view="profile",
            **common,
            allocated_on=row["allocated_on"],
            reply_due_on=row["reply_due_on"],
        )
    waiting_from = row["ready_on"] or row["permit_date"]
    dates = {
        "permit_date": row["permit_date"],
        "ready_on": row["ready_on"],
        "days_waiting": (today - waiting_from).days if row["open"] else None,
        "target_date": row["target_date"],
        "deadline_state": deadline,
        "allocated_on": row["allocated_on"],
        "reply_due_on": row["reply_due_on"],
        "reply_overdue": row["reply_overdue"],
        "accepted_on": row["accepted_on"],
        "planned_on": row["planned_on"],
        "last_event": row["last_event"],
        "last_step_at": row["last_step_at"],
    }
    if principal.role is Role.OPERATIONS:
        return CaseRow(view="operations", **common, **dates)
    hidden = row["protected"] and not principal.cleared
    return CaseRow(
        view="redacted" if hidden else "full",
        **common,
        **dates,
        category=row["category"],
        reception_centre=None if hidden else row["reception_centre"],
        municipality_number=None if hidden else row["municipality_number"],
    )


def person_row(row: dict[str, Any], today: date) -> PersonRow:
    return PersonRow(
        **{k: row[k] for k in PersonRow.model_fields if k != "overdue"},
        overdue=row["next_due_on"] is not None and row["next_due_on"] < today,
    )
