"""Domain events: what happened to a case (past-tense names).

Events leave the register: they go to Kafka and to every consumer. They therefore carry
pseudonymous ids, codes, categories, dates and municipality numbers only — never names,
identity numbers, addresses, birth dates or health details.
"""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .enums import CaseType, Category, CorrectionReason, DeclineReason, ExitReason, WithdrawalReason
from .ids import CaseId, MunicipalityNumber, PersonId

SCHEMA_VERSION = 1


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventPerson(_Data):
    person_id: PersonId
    protected_identity: bool


class ResidencePermitGranted(_Data):
    """The permit forming the basis for settlement was granted; its date is t0."""

    type: Literal["ResidencePermitGranted"] = "ResidencePermitGranted"
    case_type: CaseType
    persons: list[EventPerson]


class CompetenceMappingRecorded(_Data):
    type: Literal["CompetenceMappingRecorded"] = "CompetenceMappingRecorded"


class SettlementInterviewHeld(_Data):
    """The household is settlement-ready."""

    type: Literal["SettlementInterviewHeld"] = "SettlementInterviewHeld"


class MunicipalityAllocated(_Data):
    type: Literal["MunicipalityAllocated"] = "MunicipalityAllocated"
    municipality_number: MunicipalityNumber


class AllocationAccepted(_Data):
    type: Literal["AllocationAccepted"] = "AllocationAccepted"
    municipality_number: MunicipalityNumber


class AllocationDeclined(_Data):
    type: Literal["AllocationDeclined"] = "AllocationDeclined"
    municipality_number: MunicipalityNumber
    reason: DeclineReason


class PersonSettled(_Data):
    """One person moved into the municipality; the business date is the settlement date (t1).

    Self-contained, so the waiting-time projection needs no other event to count it."""

    type: Literal["PersonSettled"] = "PersonSettled"
    person_id: PersonId
    category: Category
    protected_identity: bool
    case_type: CaseType
    permit_date: date
    municipality_number: MunicipalityNumber


class SettlementTargetApproaching(_Data):
    """The warning before the settlement target; the business date is the warning day."""

    type: Literal["SettlementTargetApproaching"] = "SettlementTargetApproaching"
    target_months: int
    target_date: date


class SettlementTargetBreached(_Data):
    """Members were still unsettled when the target date ended; the business date is the
    first day past the target."""

    type: Literal["SettlementTargetBreached"] = "SettlementTargetBreached"
    target_months: int
    target_date: date
    unsettled_persons: int


class MunicipalityReplyOverdue(_Data):
    """The municipality has not answered within its reply window; the business date is the
    first day past it. The directorate reminds it; the allocation stands."""

    type: Literal["MunicipalityReplyOverdue"] = "MunicipalityReplyOverdue"
    municipality_number: MunicipalityNumber
    reply_due_on: date


class AllocationWithdrawn(_Data):
    type: Literal["AllocationWithdrawn"] = "AllocationWithdrawn"
    municipality_number: MunicipalityNumber
    reason: WithdrawalReason


class CaseExited(_Data):
    type: Literal["CaseExited"] = "CaseExited"
    reason: ExitReason
    unsettled_persons: int


class PermitDateCorrected(_Data):
    """t0 was wrong; the business date is the corrected permit date."""

    type: Literal["PermitDateCorrected"] = "PermitDateCorrected"
    previous_date: date
    reason: CorrectionReason


class SettlementDateCorrected(_Data):
    """One person's t1 was wrong; the business date is the corrected settlement date."""

    type: Literal["SettlementDateCorrected"] = "SettlementDateCorrected"
    person_id: PersonId
    previous_date: date
    reason: CorrectionReason


EventData = Annotated[
    ResidencePermitGranted
    | CompetenceMappingRecorded
    | SettlementInterviewHeld
    | MunicipalityAllocated
    | AllocationAccepted
    | AllocationDeclined
    | PersonSettled
    | SettlementTargetApproaching
    | SettlementTargetBreached
    | AllocationWithdrawn
    | MunicipalityReplyOverdue
    | CaseExited
    | PermitDateCorrected
    | SettlementDateCorrected,
    Field(discriminator="type"),
]


class CaseEvent(BaseModel):
    """A domain event with its envelope fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    case_id: CaseId
    sequence: int = Field(ge=1)
    """Position of the event within its case, from 1, without gaps."""
    business_date: date
    """When the thing happened (permit decision date, settlement date, ...)."""
    recorded_at: AwareDatetime
    """When the system learned of it."""
    schema_version: Literal[1] = 1
    """Bumped, with an upcaster, when an event's shape changes (see SCHEMA_VERSION)."""
    data: EventData

    @property
    def type(self) -> str:
        return self.data.type
