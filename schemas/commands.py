"""Commands: what staff, caseworkers and municipalities ask a case to do (imperative names).

Every command carries a caller-chosen ``command_id``; sending the same command twice is safe.
Business dates (``*_on``) are the dates things happened, not when they were typed in.
"""

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from schemas.calendar import BusinessDate, RecordedMoment
from schemas.enums import (
    CaseType,
    CorrectableStep,
    CorrectionReason,
    DeclineReason,
    EducationLevel,
    ExitReason,
    MemberJoinReason,
    RecommendationReason,
    ServiceNeed,
    WithdrawalReason,
)
from schemas.ids import CaseId, CommandId, MunicipalityNumber, PersonId, not_an_identity_number

ReceptionCentreId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$"),
    AfterValidator(not_an_identity_number),
]
"""A reception centre's code. It travels on Kafka with every settlement."""


TRACEPARENT = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


class Command(BaseModel):
    """Base of every command: an idempotency key, and the trace of the request it came in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: CommandId
    traceparent: str | None = Field(None, pattern=TRACEPARENT)
    """The W3C trace context of the request that sent the command (set by the API, never by
    the caller's body): the events it records carry it to Kafka and the projection, so each
    step is one trace from the request to the figures."""
    registered_at: RecordedMoment | None = None
    """When the register this step was imported from registered it (set by the import,
    never by an API body): its events keep that as their recording time, so the figures as
    of a moment before the migration are what the old register knew then."""


class PersonRecord(BaseModel):
    """One member of a household, as the register knows them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: PersonId
    birth_date: BusinessDate
    protected_identity: bool = False
    """Skjermet identitet: counted in totals only, never in a category breakdown."""


class GrantPermit(Command):
    """Open a household case: the permit forming the basis for settlement was granted (t0)."""

    case_id: CaseId
    case_type: CaseType
    permit_date: BusinessDate
    persons: list[PersonRecord] = Field(min_length=1, max_length=30)
    reception_centre: ReceptionCentreId | None = None
    dossier: bool = False
    """Resettlement selected on written dossier, without an interview: no pre-arrival
    competence mapping (domain.md §2.3 R2d)."""

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

    mapped_on: BusinessDate
    education_level: EducationLevel | None = None
    """The highest education among the household's adults; the suggestions match it."""


APPLICATION_MONTHS = 6
"""Private address: apply for settlement within 6 months of the permit (PUB-3)."""


class RecordSettlementApplication(Command):
    """Private address: the refugee applied to the directorate for settlement. Required
    within 6 months of the permit before the settlement interview (domain.md §2.2 A2p)."""

    applied_on: BusinessDate


class RecordSettlementInterview(Command):
    """Bosettingssamtale held: the household becomes settlement-ready."""

    held_on: BusinessDate
    close_family_municipality: MunicipalityNumber | None = None
    """Where close relatives live, if in Norway (A4: family and network)."""
    service_needs: list[ServiceNeed] = Field(default=[], max_length=len(ServiceNeed))
    """Coarse needs codes; stay in the register, never on an event."""


class RecordRecommendation(Command):
    """An integration reception centre recommends a municipality (domain.md §2.2 A6-IM); the
    directorate usually follows it."""

    municipality_number: MunicipalityNumber
    recommended_on: BusinessDate
    reason: RecommendationReason


class AddHouseholdMember(Command):
    """A person joins the household before it is settled: a member whose permit came later, a
    child born while waiting, or family reunification with a household still in reception.
    The household is allocated and settled together (domain.md §2.2 family rule)."""

    person: PersonRecord
    permit_date: BusinessDate
    """The member's own permit date, from which their waiting time counts."""
    reason: MemberJoinReason

    @model_validator(mode="after")
    def _born_before_permit(self) -> "AddHouseholdMember":
        if self.person.birth_date > self.permit_date:
            raise ValueError("person.birth_date: may not be after permit_date")
        return self


class AllocateToMunicipality(Command):
    """Place the household on a municipality's allocation list."""

    municipality_number: MunicipalityNumber
    allocated_on: BusinessDate
    reasons: list[RecommendationReason] = Field(default=[], max_length=len(RecommendationReason))
    """Why this municipality (A6 "match reasons"), e.g. as the suggestion list gave them."""


class AcceptAllocation(Command):
    """The municipality accepts the household ("søkt ut")."""

    accepted_on: BusinessDate


class PlanSettlement(Command):
    """The municipality and the reception centre agree the move (A8), or the municipality sets
    a resettlement household's settlement date (R5). The directorate is reminded if the date
    passes with members unsettled. Planning again moves the date."""

    planned_on: BusinessDate
    registered_on: BusinessDate

    @model_validator(mode="after")
    def _planned_after_registered(self) -> "PlanSettlement":
        if self.planned_on < self.registered_on:
            raise ValueError("planned_on: may not be before registered_on")
        return self


TRAVEL_NOTICE_DAYS = 14
"""IOM confirms an arrival at least two weeks ahead (PUB-10)."""


class BookTravel(Command):
    """Resettlement: travel booked; IOM confirms the arrival at least two weeks ahead (R6)."""

    booked_on: BusinessDate
    arrival_on: BusinessDate

    @model_validator(mode="after")
    def _two_weeks_ahead(self) -> "BookTravel":
        if (self.arrival_on - self.booked_on).days < TRAVEL_NOTICE_DAYS:
            raise ValueError(
                f"arrival_on: must be at least {TRAVEL_NOTICE_DAYS} days after booked_on"
            )
        return self


class RecordArrival(Command):
    """Resettlement: the household arrived in Norway. Arrival in the municipality is
    settlement (R8); the exception is placement in a reception centre first (R8m), after
    which the household is allocated again like an asylum-based one."""

    arrived_on: BusinessDate
    placed_in_reception: bool = False


class ExtendEntryPermit(Command):
    """Resettlement: the entry permit lapses 6 months after the decision unless extended."""

    decided_on: BusinessDate
    valid_until: BusinessDate

    @model_validator(mode="after")
    def _extends_into_the_future(self) -> "ExtendEntryPermit":
        if self.valid_until <= self.decided_on:
            raise ValueError("valid_until: must be after decided_on")
        return self


class DeclineAllocation(Command):
    """The municipality declines; the household returns to allocation."""

    declined_on: BusinessDate
    reason: DeclineReason


class PersonSettlement(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: PersonId
    settled_on: BusinessDate


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

    withdrawn_on: BusinessDate
    reason: WithdrawalReason


class RecordExit(Command):
    """The case leaves the path: members not yet settled will not be settled by agreement."""

    exited_on: BusinessDate
    reason: ExitReason


class CorrectPermitDate(Command):
    """Correct t0. Moves the settlement target, and every figure the case is in."""

    permit_date: BusinessDate
    reason: CorrectionReason


class CorrectSettlementDate(Command):
    """Correct one person's settlement date (t1), during the case's correction window."""

    person_id: PersonId
    settled_on: BusinessDate
    reason: CorrectionReason


class CorrectStepDate(Command):
    """Correct the business date of another step: application, mapping, interview,
    allocation or acceptance. Dates must still follow each other."""

    step: CorrectableStep
    on: BusinessDate
    reason: CorrectionReason
