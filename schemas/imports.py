"""The import format for migrating cases from an existing register: JSON Lines, one household
case per line with its history so far. Version ``bosetting.case/1`` (the dates of each step),
and ``bosetting.case/2`` (each step with the moment it was registered; below).

Every line is checked on its own before anything is imported; the dates must follow each
other the way the workflow demands, so a line that passes here cannot be refused half-way."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.calendar import BusinessDate, RecordedMoment, add_months
from schemas.commands import APPLICATION_MONTHS, PersonRecord, ReceptionCentreId
from schemas.enums import (
    CaseType,
    CorrectableStep,
    CorrectionReason,
    DeclineReason,
    ExitReason,
    MemberJoinReason,
    RecommendationReason,
    WithdrawalReason,
)
from schemas.ids import CaseId, MunicipalityNumber, PersonId
from schemas.places import PlacesDecisionNumbers

IMPORT_FORMAT = "bosetting.case/1"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ImportedAllocation(_Strict):
    municipality_number: MunicipalityNumber
    allocated_on: BusinessDate
    outcome: Literal["accepted", "declined", "withdrawn", "pending"]
    answered_on: BusinessDate | None = None
    """Date of the acceptance, decline or withdrawal; none while pending."""
    decline_reason: DeclineReason | None = None
    withdrawal_reason: WithdrawalReason | None = None

    @model_validator(mode="after")
    def _answer_fits_outcome(self) -> "ImportedAllocation":
        if self.outcome == "pending":
            if self.answered_on is not None:
                raise ValueError("answered_on: must be empty while the outcome is pending")
        elif self.answered_on is None:
            raise ValueError(f"answered_on: required when the outcome is {self.outcome}")
        elif self.answered_on < self.allocated_on:
            raise ValueError("answered_on: may not be before allocated_on")
        if (self.outcome == "declined") != (self.decline_reason is not None):
            raise ValueError("decline_reason: required for, and only for, a declined outcome")
        if (self.outcome == "withdrawn") != (self.withdrawal_reason is not None):
            raise ValueError("withdrawal_reason: required for, and only for, a withdrawn outcome")
        return self


class ImportedSettlement(_Strict):
    person_id: PersonId
    settled_on: BusinessDate


class ImportedExit(_Strict):
    exited_on: BusinessDate
    reason: ExitReason


class _Household(_Strict):
    """The permit as both formats give it."""

    case_id: CaseId
    case_type: CaseType
    permit_date: BusinessDate
    reception_centre: ReceptionCentreId | None = None
    persons: list[PersonRecord] = Field(min_length=1, max_length=30)


class ImportedCase(_Household):
    format: Literal["bosetting.case/1"]
    applied_on: BusinessDate | None = None
    """Private address only: the settlement application, required before an interview."""
    competence_mapped_on: BusinessDate | None = None
    interview_held_on: BusinessDate | None = None
    allocations: list[ImportedAllocation] = []
    settlements: list[ImportedSettlement] = []
    exit: ImportedExit | None = None

    @model_validator(mode="after")
    def _history_in_order(self) -> "ImportedCase":
        private = self.case_type is CaseType.PRIVATE_ADDRESS
        if self.applied_on is not None:
            if not private:
                raise ValueError("applied_on: only a private_address case applies for settlement")
            if self.applied_on < self.permit_date:
                raise ValueError("applied_on: may not be before permit_date")
            if self.applied_on > add_months(self.permit_date, APPLICATION_MONTHS):
                raise ValueError(
                    f"applied_on: more than {APPLICATION_MONTHS} months after permit_date"
                )
            if self.interview_held_on is not None and self.interview_held_on < self.applied_on:
                raise ValueError("interview_held_on: may not be before applied_on")
        elif private and self.interview_held_on is not None:
            raise ValueError("applied_on: required for a private_address case with an interview")
        if self.interview_held_on is not None and self.interview_held_on < self.permit_date:
            raise ValueError("interview_held_on: may not be before permit_date")
        if self.allocations and self.interview_held_on is None:
            raise ValueError("interview_held_on: required before any allocation")
        previous = self.interview_held_on
        for i, allocation in enumerate(self.allocations):
            last = i == len(self.allocations) - 1
            if not last and allocation.outcome in ("accepted", "pending"):
                raise ValueError(
                    f"allocations.{i}.outcome: only the last allocation may be {allocation.outcome}"
                )
            if previous is not None and allocation.allocated_on < previous:
                raise ValueError(
                    f"allocations.{i}.allocated_on: may not be before the step it follows"
                )
            previous = allocation.answered_on
        members = {p.person_id for p in self.persons}
        settled = [s.person_id for s in self.settlements]
        if len(set(settled)) != len(settled):
            raise ValueError("settlements: each person_id may appear only once")
        if not members.issuperset(settled):
            raise ValueError("settlements: person_id not a member of the household")
        if self.settlements:
            accepted = self.allocations[-1] if self.allocations else None
            if accepted is None or accepted.outcome != "accepted":
                raise ValueError("settlements: the last allocation must be accepted")
            assert accepted.answered_on is not None
            for s in self.settlements:
                if s.settled_on < accepted.answered_on:
                    raise ValueError("settlements: settled_on may not be before acceptance")
        if self.exit is not None:
            if len(settled) == len(members):
                raise ValueError("exit: every member is settled; there is nothing to exit")
            latest = max(
                [self.permit_date]
                + [d for a in self.allocations for d in (a.allocated_on, a.answered_on) if d]
                + [s.settled_on for s in self.settlements]
            )
            if self.exit.exited_on < latest:
                raise ValueError("exit.exited_on: may not be before the last step")
        return self


# -- format 2 -------------------------------------------------------------------------------
#
# ``bosetting.case/2``: a case's history as the steps the old register recorded, each with
# its business date and the moment it was registered, so that the events keep those moments
# and ``--as-of`` any time before the migration gives what the old register knew then. Late
# members, travel and arrival, corrections and exits are steps too. A file may also hold the
# councils' decisions (``bosetting.places/2``), each with its registration time.

IMPORT_FORMAT_2 = "bosetting.case/2"
PLACES_FORMAT_2 = "bosetting.places/2"


class _Registered(_Strict):
    registered_at: RecordedMoment
    """When the old register recorded the step (with its offset)."""


class ApplicationStep(_Registered):
    step: Literal["settlement_application"]
    on: BusinessDate


class MappingStep(_Registered):
    step: Literal["competence_mapping"]
    on: BusinessDate


class InterviewStep(_Registered):
    step: Literal["settlement_interview"]
    on: BusinessDate


class MemberStep(_Registered):
    """A person joined the household: ``on`` is the member's own permit date."""

    step: Literal["member_added"]
    on: BusinessDate
    person: PersonRecord
    reason: MemberJoinReason


class RecommendationStep(_Registered):
    """An integration reception centre recommended a municipality."""

    step: Literal["recommendation"]
    on: BusinessDate
    municipality_number: MunicipalityNumber
    reason: RecommendationReason


class AllocationStep(_Registered):
    step: Literal["allocation"]
    on: BusinessDate
    municipality_number: MunicipalityNumber


class AcceptanceStep(_Registered):
    step: Literal["acceptance"]
    on: BusinessDate


class DeclineStep(_Registered):
    step: Literal["decline"]
    on: BusinessDate
    reason: DeclineReason


class WithdrawalStep(_Registered):
    step: Literal["withdrawal"]
    on: BusinessDate
    reason: WithdrawalReason


class PlannedStep(_Registered):
    """The move agreed for ``planned_on``; ``on`` is the day it was agreed."""

    step: Literal["settlement_planned"]
    on: BusinessDate
    planned_on: BusinessDate


class EntryPermitStep(_Registered):
    """Resettlement: the entry permit extended on ``on`` until ``valid_until``."""

    step: Literal["entry_permit_extended"]
    on: BusinessDate
    valid_until: BusinessDate


class TravelStep(_Registered):
    """Resettlement: travel booked on ``on`` for an arrival on ``arrival_on``."""

    step: Literal["travel_booked"]
    on: BusinessDate
    arrival_on: BusinessDate


class ArrivalStep(_Registered):
    """Resettlement: arrival in Norway; settlement, unless placed in a reception centre."""

    step: Literal["arrival"]
    on: BusinessDate
    placed_in_reception: bool = False


class SettlementStep(_Registered):
    step: Literal["settlement"]
    on: BusinessDate
    person_ids: list[PersonId] = Field(min_length=1, max_length=30)


class PermitCorrectionStep(_Registered):
    step: Literal["permit_date_corrected"]
    on: BusinessDate
    """The corrected permit date."""
    reason: CorrectionReason


class SettlementCorrectionStep(_Registered):
    step: Literal["settlement_date_corrected"]
    on: BusinessDate
    """The corrected settlement date."""
    person_id: PersonId
    reason: CorrectionReason


class StepCorrectionStep(_Registered):
    step: Literal["step_date_corrected"]
    on: BusinessDate
    """The corrected date of ``corrected``."""
    corrected: CorrectableStep
    reason: CorrectionReason


class ExitStep(_Registered):
    step: Literal["exit"]
    on: BusinessDate
    reason: ExitReason


CaseStep = Annotated[
    ApplicationStep
    | MappingStep
    | InterviewStep
    | MemberStep
    | RecommendationStep
    | AllocationStep
    | AcceptanceStep
    | DeclineStep
    | WithdrawalStep
    | PlannedStep
    | EntryPermitStep
    | TravelStep
    | ArrivalStep
    | SettlementStep
    | PermitCorrectionStep
    | SettlementCorrectionStep
    | StepCorrectionStep
    | ExitStep,
    Field(discriminator="step"),
]

_REGISTERED_AFTER = (
    ApplicationStep,
    MappingStep,
    InterviewStep,
    AllocationStep,
    AcceptanceStep,
    DeclineStep,
    WithdrawalStep,
    ArrivalStep,
    SettlementStep,
    ExitStep,
)
"""Steps that record something that happened: not registered before the day it happened."""


class ImportedCase2(_Registered, _Household):
    """A household case: the permit (``registered_at`` is when it was registered), then its
    steps in the order they were registered. The workflow checks each step's rules as it
    does for staff; a step it refuses is reported with the line, and the rest of that case
    is not imported."""

    format: Literal["bosetting.case/2"]
    steps: list[CaseStep] = Field(default=[], max_length=200)

    @model_validator(mode="after")
    def _registered_in_order(self) -> "ImportedCase2":
        if self.registered_at.date() < self.permit_date:
            raise ValueError("registered_at: may not be before permit_date")
        previous = self.registered_at
        members = {p.person_id for p in self.persons}
        for i, step in enumerate(self.steps):
            if step.registered_at < previous:
                raise ValueError(
                    f"steps.{i}.registered_at: may not be before the step registered before it"
                )
            previous = step.registered_at
            if isinstance(step, _REGISTERED_AFTER) and step.registered_at.date() < step.on:
                raise ValueError(f"steps.{i}.registered_at: may not be before the day it happened")
            if isinstance(step, MemberStep):
                if step.person.person_id in members:
                    raise ValueError(f"steps.{i}.person.person_id: already a member")
                members.add(step.person.person_id)
            named = (
                step.person_ids
                if isinstance(step, SettlementStep)
                else [step.person_id]
                if isinstance(step, SettlementCorrectionStep)
                else []
            )
            if not members.issuperset(named):
                raise ValueError(f"steps.{i}: person_id not a member of the household")
        return self


class ImportedPlaces2(_Registered, PlacesDecisionNumbers):
    """A council's decision (or IMDi's request, or its adjustment) as the old register
    recorded it: the whole decision as it stood then, with the command's fields and rules.
    Lines of one municipality and year are applied in the order of the file; each records
    only what it changed."""

    format: Literal["bosetting.places/2"]
    municipality_number: MunicipalityNumber
    year: int = Field(ge=2000, le=2100)
