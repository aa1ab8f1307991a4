"""The state of one household case, as its workflow holds it and its query returns it."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.commands import PersonRecord
from schemas.enums import (
    CaseStage,
    CaseType,
    Category,
    DeadlineState,
    EducationLevel,
    ExitReason,
    RecommendationReason,
    ServiceNeed,
    SettlingAuthority,
)
from schemas.ids import CaseId, MunicipalityNumber, PersonId


class CommandResult(BaseModel):
    """What a command did: the stage after it and the events it recorded."""

    model_config = ConfigDict(frozen=True)

    case_id: CaseId
    stage: CaseStage
    event_ids: list[UUID]


class SettledPerson(BaseModel):
    model_config = ConfigDict(frozen=True)

    settled_on: date
    category: Category


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True)

    municipality_number: MunicipalityNumber
    reason: RecommendationReason
    recommended_on: date


class CaseState(BaseModel):
    case_id: CaseId
    case_type: CaseType
    stage: CaseStage
    permit_date: date
    persons: list[PersonRecord]
    reception_centre: str | None = None
    dossier: bool = False
    settled_by: SettlingAuthority = SettlingAuthority.IMDI
    member_permit_dates: dict[PersonId, date] = {}
    """Permit dates of members who joined later; the others have the case's permit date."""
    application_due_on: date | None = None
    """Private address: apply for settlement by this day or leave the directorate's scope."""
    applied_on: date | None = None
    education_level: EducationLevel | None = None
    close_family_municipality: MunicipalityNumber | None = None
    service_needs: list[ServiceNeed] = []
    recommendation: Recommendation | None = None
    planned_settlement_on: date | None = None
    planned_date_passed: bool = False
    entry_permit_valid_until: date | None = None
    """Resettlement: the entry permit lapses after this day unless extended."""
    entry_permit_lapsed: bool = False
    travel_arrival_on: date | None = None
    """Resettlement: the arrival date IOM confirmed."""
    arrived_on: date | None = None
    placed_in_reception: bool = False
    competence_mapped_on: date | None = None
    interview_held_on: date | None = None
    municipality_number: MunicipalityNumber | None = None
    allocated_on: date | None = None
    accepted_on: date | None = None
    allocations: int = 0
    """How many allocations the household has had; names the current one."""
    declines: int = 0
    withdrawals: int = 0
    exit_reason: ExitReason | None = None
    reply_due_on: date | None = None
    """When the municipality should have answered the current allocation, if a window applies."""
    reply_overdue: bool = False
    reservation_id: str | None = None
    """The places reservation held in the allocated municipality's ledger."""
    reservation_year: int | None = None
    target_months: int
    target_date: date
    """Settle every member by this day: t0 + 3 or 6 calendar months."""
    deadline_state: DeadlineState = DeadlineState.ON_TRACK
    category: Category | None = None
    """The household's statistical category, fixed at its first settlement date."""
    settled: dict[PersonId, SettledPerson] = {}
    qualification_records: list[PersonId] = []
    """Adults whose qualification record (a child workflow) this case opened."""
    last_sequence: int = 0
    applied_commands: dict[str, CommandResult] = {}
    """Idempotency: results of commands already applied, by command id."""

    def permit_date_of(self, person_id: PersonId) -> date:
        return self.member_permit_dates.get(person_id, self.permit_date)

    def unsettled(self) -> list[PersonRecord]:
        return [p for p in self.persons if p.person_id not in self.settled]


class CarriedCase(BaseModel):
    """What a case workflow hands to its next run when it continues as new."""

    model_config = ConfigDict(extra="forbid")

    state: CaseState
    target_epoch: int
