"""The case register written from events: one row per case and per person as they stand now,
so that work queues can list cases and find a person's case without asking Temporal.

It is applied in the same transaction, and behind the same stream dedupe, as the figures'
read model (read_model.py): an event is applied to both once or to neither, and a rebuild
from the event log fills both. Deadline states are not stored: a queue judges them against
the day it is read (queues.py), so a row never goes stale waiting for a timer's event."""

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import CaseStage, CorrectableStep
from schemas.events import (
    PLACES_EVENTS,
    QUALIFICATION_EVENTS,
    AllocationAccepted,
    AllocationDeclined,
    AllocationWithdrawn,
    CaseEvent,
    CaseExited,
    CompetenceMappingRecorded,
    HouseholdMemberAdded,
    MunicipalityAllocated,
    MunicipalityReplyOverdue,
    NorwegianTrainingCompleted,
    NorwegianTrainingExempted,
    NorwegianTrainingStarted,
    PermitDateCorrected,
    PersonSettled,
    ProgrammeEnded,
    ProgrammeStarted,
    QualificationDeadlinesMoved,
    ResettlementArrived,
    ResidencePermitGranted,
    RightsAssessed,
    SettlementDateCorrected,
    SettlementInterviewHeld,
    SettlementPlanned,
    StepDateCorrected,
)
from schemas.qualification import NorwegianRight, ProgrammeRight, QualificationState
from workers.projection.bulk import insert_rows
from workers.projection.records import fold
from workers.projection.store import RegisteredCase, RegisteredPerson
from workers.projection.streams import Row

CASES = cast(Table, RegisteredCase.__table__)
CLOSED = (CaseStage.SETTLED.value, CaseStage.EXITED.value)
PERSONS = cast(Table, RegisteredPerson.__table__)
CHUNK = 500

_CASE_DEFAULTS: Row = {c.name: None for c in CASES.columns} | {
    "reply_overdue": False,
    "settled": 0,
    "protected": False,
}
_PERSON_DEFAULTS: Row = {c.name: None for c in PERSONS.columns} | {"protected": False}
"""A new row: every column, None but where the table says otherwise."""
_STEP_COLUMNS = {
    CorrectableStep.COMPETENCE_MAPPING: "competence_mapped_on",
    CorrectableStep.SETTLEMENT_INTERVIEW: "ready_on",
    CorrectableStep.ALLOCATION: "allocated_on",
    CorrectableStep.ACCEPTANCE: "accepted_on",
}
"""The corrected steps whose dates the register keeps."""


class _Rows:
    """Rows of one table by key: those stored before this batch are updated, the rest
    inserted, each in one statement at the end."""

    def __init__(self, table: Table, key: str) -> None:
        self.table, self.key = table, key
        self.rows: dict[str, Row] = {}
        self.stored: set[str] = set()
        self.touched: set[str] = set()

    def add_stored(self, row: Row) -> None:
        self.rows[row[self.key]] = row
        self.stored.add(row[self.key])

    def get(self, key: str) -> Row | None:
        return self.rows.get(key)

    def put(self, row: Row) -> Row:
        self.rows[row[self.key]] = row
        self.touched.add(row[self.key])
        return row

    def touch(self, row: Row) -> None:
        self.touched.add(row[self.key])

    async def write(self, session: AsyncSession) -> None:
        new = [self.rows[k] for k in sorted(self.touched - self.stored)]
        await insert_rows(session, self.table, new)
        changed = [
            {"_key": k} | {c: v for c, v in self.rows[k].items() if c != self.key}
            for k in sorted(self.touched & self.stored)
        ]
        if changed:
            columns = [c for c in changed[0] if c != "_key"]
            await session.execute(
                update(self.table)
                .where(self.table.c[self.key] == bindparam("_key"))
                .values({c: bindparam(c) for c in columns}),
                changed,
            )


class CaseRegister:
    """A batch's view of the register: the rows its streams touch, changed in memory."""

    def __init__(self, cases: _Rows, persons: _Rows) -> None:
        self._cases = cases
        self._persons = persons
        self._households: dict[str, list[Row]] = {}
        """Each case's persons, kept as they are added (a batch touches thousands)."""
        for person in persons.rows.values():
            self._households.setdefault(person["case_id"], []).append(person)

    @classmethod
    async def load(cls, session: AsyncSession, stream_ids: set[str]) -> "CaseRegister":
        cases, persons = _Rows(CASES, "case_id"), _Rows(PERSONS, "person_id")
        ids = sorted(stream_ids)
        for chunk in (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)):
            for row in await session.execute(select(CASES).where(CASES.c.case_id.in_(chunk))):
                cases.add_stored(dict(row._mapping))
            # A case stream's persons, and the persons whose records are streams of their own.
            query = select(PERSONS).where(
                or_(PERSONS.c.case_id.in_(chunk), PERSONS.c.person_id.in_(chunk))
            )
            for row in await session.execute(query):
                persons.add_stored(dict(row._mapping))
        return cls(cases, persons)

    async def write(self, session: AsyncSession) -> None:
        for key in self._cases.touched:
            row = self._cases.rows[key]
            row["open"] = row["stage"] not in CLOSED
        await self._cases.write(session)
        await self._persons.write(session)

    def apply(self, event: CaseEvent) -> None:
        """An event new to its stream (the caller deduplicates)."""
        if isinstance(event.data, QUALIFICATION_EVENTS):
            self._record(event)
            return
        if isinstance(event.data, PLACES_EVENTS):
            return  # a municipality's places, not a case
        row = self._cases.get(event.case_id)
        data = event.data
        if isinstance(data, ResidencePermitGranted):
            row = self._cases.put(
                _CASE_DEFAULTS
                | {
                    "case_id": event.case_id,
                    "case_type": data.case_type.value,
                    "stage": CaseStage.PERMIT_GRANTED.value,
                    "reception_centre": data.reception_centre,
                    "permit_date": event.business_date,
                    "target_months": data.target_months,
                    "target_date": data.target_date,
                    "members": len(data.persons),
                    "protected": any(p.protected_identity for p in data.persons),
                    "last_event": data.type,
                    "last_step_at": event.recorded_at,
                }
            )
            for p in data.persons:
                self._person(p.person_id, event.case_id, protected=p.protected_identity)[
                    "permit_date"
                ] = event.business_date
            self._mark_household(row)
            return
        if row is None:
            return  # a stream whose opening event this register never saw (none in practice)
        self._cases.touch(row)
        row["last_event"], row["last_step_at"] = data.type, event.recorded_at
        self._case(row, event)

    def _case(self, row: Row, event: CaseEvent) -> None:
        data, day = event.data, event.business_date
        match data:
            case SettlementInterviewHeld():
                row["stage"], row["ready_on"] = CaseStage.SETTLEMENT_READY.value, day
            case MunicipalityAllocated():
                row |= {
                    "stage": CaseStage.ALLOCATED.value,
                    "municipality_number": data.municipality_number,
                    "allocated_on": day,
                    "reply_due_on": data.reply_due_on,
                    "reply_overdue": False,
                    "accepted_on": None,
                }
            case AllocationAccepted():
                row["stage"], row["accepted_on"] = CaseStage.ACCEPTED.value, day
            case AllocationDeclined() | AllocationWithdrawn():
                _back_to_allocation(row)
            case ResettlementArrived(placed_in_reception=True):
                _back_to_allocation(row)
            case MunicipalityReplyOverdue():
                row["reply_overdue"] = True
            case SettlementPlanned():
                row["planned_on"] = data.planned_on
            case HouseholdMemberAdded():
                row["members"] += 1
                person = self._person(data.person_id, event.case_id, data.protected_identity)
                person["permit_date"] = day
                self._mark_household(row)
            case PersonSettled():
                person = self._person(data.person_id, event.case_id, data.protected_identity)
                if person["settled_on"] is None:
                    row["settled"] += 1
                person["settled_on"] = day
                person["municipality_number"] = data.municipality_number
                row["category"] = data.category.value
                row["municipality_number"] = data.municipality_number
                self._settled_dates(row)
                if row["settled"] >= row["members"]:
                    row["stage"] = CaseStage.SETTLED.value
            case SettlementDateCorrected():
                person = self._person(data.person_id, event.case_id)
                person["settled_on"] = day
                self._settled_dates(row)
            case CaseExited():
                row["stage"], row["exit_reason"] = CaseStage.EXITED.value, data.reason.value
            case CompetenceMappingRecorded():
                if row["competence_mapped_on"] is None or day < row["competence_mapped_on"]:
                    row["competence_mapped_on"] = day
            case PermitDateCorrected():
                for person in self._members(event.case_id):
                    if person["permit_date"] == data.previous_date:
                        self._persons.touch(person)
                        person["permit_date"] = day
                row["permit_date"] = day
                if data.target_date is not None:
                    row["target_months"], row["target_date"] = (
                        data.target_months,
                        data.target_date,
                    )
            case StepDateCorrected() if data.step in _STEP_COLUMNS:
                row[_STEP_COLUMNS[data.step]] = day

    def _record(self, event: CaseEvent) -> None:
        """A person's qualification record: its stream id is the person id."""
        data, day = event.data, event.business_date
        person = self._persons.get(event.case_id)
        if isinstance(data, RightsAssessed):
            person = self._person(event.case_id, data.case_id)
            person["protected"] = (
                person["protected"] or data.protected_identity or data.household_protected
            )
            person |= {
                "municipality_number": data.municipality_number,
                "programme_right": data.programme_right.value,
                "norwegian_right": data.norwegian_right.value,
                "programme_start_due": data.programme_start_due,
                "norwegian_start_due": data.norwegian_start_due,
                "norwegian_completion_due": data.norwegian_completion_due,
            }
        elif person is None:
            return
        else:
            self._persons.touch(person)
            match data:
                case QualificationDeadlinesMoved():
                    person |= {
                        "programme_start_due": data.programme_start_due,
                        "norwegian_start_due": data.norwegian_start_due,
                        "norwegian_completion_due": data.norwegian_completion_due,
                    }
                case ProgrammeStarted():
                    person["programme_started_on"] = day
                case ProgrammeEnded():
                    person["programme_ended_on"] = day
                case NorwegianTrainingStarted():
                    person["norwegian_started_on"] = day
                case NorwegianTrainingCompleted() | NorwegianTrainingExempted():
                    person["norwegian_concluded_on"] = day
        person["next_due_on"] = next_due(person)
        before = (
            QualificationState.model_validate_json(person["record"]) if person["record"] else None
        )
        after = fold(before, event, person["permit_date"])
        person["record"] = after.model_dump_json() if after is not None else None

    def _person(self, person_id: str, case_id: str, protected: bool = False) -> Row:
        person = self._persons.get(person_id)
        if person is None:
            person = _PERSON_DEFAULTS | {"person_id": person_id, "case_id": case_id}
            self._households.setdefault(case_id, []).append(person)
        self._persons.put(person)
        person["protected"] = person["protected"] or protected
        return person

    def _members(self, case_id: str) -> list[Row]:
        return self._households.get(case_id, [])

    def _mark_household(self, row: Row) -> None:
        """A household with a protected member: each member's record tells where it lives."""
        members = self._members(row["case_id"])
        row["protected"] = row["protected"] or any(p["protected"] for p in members)
        if row["protected"]:
            for person in members:
                if not person["protected"]:
                    self._persons.touch(person)
                    person["protected"] = True

    def _settled_dates(self, row: Row) -> None:
        dates = [p["settled_on"] for p in self._members(row["case_id"]) if p["settled_on"]]
        row["first_settled_on"] = min(dates, default=None)
        row["last_settled_on"] = max(dates, default=None)


def _back_to_allocation(row: Row) -> None:
    row |= {
        "stage": CaseStage.SETTLEMENT_READY.value,
        "municipality_number": None,
        "allocated_on": None,
        "accepted_on": None,
        "reply_due_on": None,
        "reply_overdue": False,
        "planned_on": None,
    }


def next_due(person: Row) -> date | None:
    """The nearest deadline of the person's record still open: the programme start (for
    those with the right and duty), the Norwegian training start, its completion."""
    open_dues: Sequence[Any] = [
        person["programme_start_due"]
        if person["programme_right"] == ProgrammeRight.RIGHT_AND_OBLIGATION.value
        and person["programme_started_on"] is None
        and person["programme_ended_on"] is None
        else None,
        person["norwegian_start_due"]
        if person["norwegian_started_on"] is None and person["norwegian_concluded_on"] is None
        else None,
        person["norwegian_completion_due"]
        if person["norwegian_right"] != NorwegianRight.NONE.value
        and person["norwegian_concluded_on"] is None
        else None,
    ]
    found = [d for d in open_dues if d is not None]
    return min(found) if found else None
