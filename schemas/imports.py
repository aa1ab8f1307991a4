"""The import format for migrating cases from an existing register: JSON Lines, one household
case per line with its history so far. Version ``bosetting.case/1``.

Every line is checked on its own before anything is imported; the dates must follow each
other the way the workflow demands, so a line that passes here cannot be refused half-way."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.calendar import BusinessDate, add_months
from schemas.commands import APPLICATION_MONTHS, PersonRecord, ReceptionCentreId
from schemas.enums import CaseType, DeclineReason, ExitReason, WithdrawalReason
from schemas.ids import CaseId, MunicipalityNumber, PersonId

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


class ImportedCase(_Strict):
    format: Literal["bosetting.case/1"]
    case_id: CaseId
    case_type: CaseType
    permit_date: BusinessDate
    reception_centre: ReceptionCentreId | None = None
    persons: list[PersonRecord] = Field(min_length=1, max_length=30)
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
