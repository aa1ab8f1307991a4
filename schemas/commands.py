"""Commands: what staff, caseworkers and municipalities ask a case to do (imperative names).

Every command carries a caller-chosen ``command_id``; sending the same command twice is safe.
Business dates (``*_on``) are the dates things happened, not when they were typed in.
"""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from .enums import CaseType, CorrectionReason, DeclineReason, ExitReason, WithdrawalReason
from .ids import CaseId, CommandId, MunicipalityNumber, PersonId

ReceptionCentreId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class Command(BaseModel):
    """Base of every command: an idempotency key and nothing else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: CommandId


class PersonRecord(BaseModel):
    """One member of a household, as the register knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: PersonId
    birth_date: date
    protected_identity: bool = False
    """Skjermet identitet: counted in totals only, never in a category breakdown."""


class GrantPermit(Command):
    """Open a household case: the permit forming the basis for settlement was granted (t0)."""

    case_id: CaseId
    case_type: CaseType
    permit_date: date
    persons: list[PersonRecord] = Field(min_length=1, max_length=30)
    reception_centre: ReceptionCentreId | None = None

    @model_validator(mode="after")
    def _household_is_consistent(self) -> "GrantPermit":
        ids = [p.person_id for p in self.persons]
        if len(set(ids)) != len(ids):
            raise ValueError("persons: person_id must be unique within a household")
        for p in self.persons:
            if p.birth_date > self.permit_date:
                raise ValueError("persons: birth_date may not be after permit_date")
        return self


class RecordCompetenceMapping(Command):
    """Kompetansekartlegging done (may happen any time before settlement)."""

    mapped_on: date


class RecordSettlementInterview(Command):
    """Bosettingssamtale held: the household becomes settlement-ready."""

    held_on: date


class AllocateToMunicipality(Command):
    """Place the household on a municipality's allocation list."""

    municipality_number: MunicipalityNumber
    allocated_on: date


class AcceptAllocation(Command):
    """The municipality accepts the household ("søkt ut")."""

    accepted_on: date


class DeclineAllocation(Command):
    """The municipality declines; the household returns to allocation."""

    declined_on: date
    reason: DeclineReason


class PersonSettlement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: PersonId
    settled_on: date


class RegisterSettlement(Command):
    """Register the settlement date (bosettingsdato) of one or more household members."""

    settlements: list[PersonSettlement] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _each_person_once(self) -> "RegisterSettlement":
        ids = [s.person_id for s in self.settlements]
        if len(set(ids)) != len(ids):
            raise ValueError("settlements: each person_id may appear only once")
        return self


class WithdrawAllocation(Command):
    """The directorate withdraws an allocation, accepted or not; the household returns to
    allocation and its places are released."""

    withdrawn_on: date
    reason: WithdrawalReason


class RecordExit(Command):
    """The case leaves the path: members not yet settled will not be settled by agreement."""

    exited_on: date
    reason: ExitReason


class CorrectPermitDate(Command):
    """Correct t0. Moves the settlement target, and every figure the case is in."""

    permit_date: date
    reason: CorrectionReason


class CorrectSettlementDate(Command):
    """Correct one person's settlement date (t1), during the case's correction window."""

    person_id: PersonId
    settled_on: date
    reason: CorrectionReason
