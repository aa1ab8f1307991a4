"""Domain events: what happened to a case (past-tense names).

Events leave the register: they go to Kafka and to every consumer. They therefore carry
pseudonymous ids, codes, categories, dates and municipality numbers only — never names,
identity numbers, addresses, birth dates or health details.
"""

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.calendar import BusinessDate, RecordedMoment
from schemas.enums import (
    CaseType,
    Category,
    CorrectableStep,
    CorrectionReason,
    DeclineReason,
    ExitReason,
    MemberJoinReason,
    RecommendationReason,
    SettlingAuthority,
    WithdrawalReason,
)
from schemas.ids import CaseId, MunicipalityNumber, PersonId
from schemas.qualification import (
    EndGoal,
    MainActivity,
    NorwegianRight,
    ProgrammeEndReason,
    ProgrammeRight,
)

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
    reception_centre: str | None = None
    """The reception centre the household lives in, if any (the case register's scope for
    reception staff). None in events recorded before it was carried."""
    target_months: int | None = None
    target_date: BusinessDate | None = None
    """The settlement target the case opened with (t0 + 3 or 6 months, by the household's
    category on its permit date)."""


class CompetenceMappingRecorded(_Data):
    type: Literal["CompetenceMappingRecorded"] = "CompetenceMappingRecorded"


class SettlementInterviewHeld(_Data):
    """The household is settlement-ready."""

    type: Literal["SettlementInterviewHeld"] = "SettlementInterviewHeld"


class MunicipalityAllocated(_Data):
    type: Literal["MunicipalityAllocated"] = "MunicipalityAllocated"
    municipality_number: MunicipalityNumber
    reasons: list[RecommendationReason] = []
    reply_due_on: BusinessDate | None = None
    """The day the municipality should answer by, on a track that has a reply window."""


class SettlementApplicationReceived(_Data):
    """Private address: the refugee applied for settlement (A2p)."""

    type: Literal["SettlementApplicationReceived"] = "SettlementApplicationReceived"


class SettlementApplicationLapsed(_Data):
    """Private address: no application within 6 months; the case leaves the directorate's
    scope. The business date is the first day past the deadline."""

    type: Literal["SettlementApplicationLapsed"] = "SettlementApplicationLapsed"
    application_due_on: BusinessDate


class HouseholdMemberAdded(_Data):
    """A person joined the household case; the business date is their own permit date."""

    type: Literal["HouseholdMemberAdded"] = "HouseholdMemberAdded"
    person_id: PersonId
    protected_identity: bool
    reason: MemberJoinReason


class MunicipalityRecommended(_Data):
    """An integration reception centre recommended a municipality (A6-IM)."""

    type: Literal["MunicipalityRecommended"] = "MunicipalityRecommended"
    municipality_number: MunicipalityNumber
    reason: RecommendationReason


class SettlementPlanned(_Data):
    """The move is agreed; the business date is when it was registered."""

    type: Literal["SettlementPlanned"] = "SettlementPlanned"
    municipality_number: MunicipalityNumber
    planned_on: BusinessDate


class PlannedSettlementDatePassed(_Data):
    """The planned date passed with members unsettled; the directorate reminds the
    municipality (A8). The business date is the first day past the planned date."""

    type: Literal["PlannedSettlementDatePassed"] = "PlannedSettlementDatePassed"
    municipality_number: MunicipalityNumber
    planned_on: BusinessDate


class TravelBooked(_Data):
    type: Literal["TravelBooked"] = "TravelBooked"
    arrival_on: BusinessDate


class ResettlementArrived(_Data):
    """The household arrived; unless placed in reception, settlement events follow at once."""

    type: Literal["ResettlementArrived"] = "ResettlementArrived"
    placed_in_reception: bool


class EntryPermitExtended(_Data):
    type: Literal["EntryPermitExtended"] = "EntryPermitExtended"
    previous_valid_until: BusinessDate
    valid_until: BusinessDate


class EntryPermitLapsed(_Data):
    """The entry permit ran out before the household arrived; the business date is the first
    day past it. Not an exit: UDI may extend it."""

    type: Literal["EntryPermitLapsed"] = "EntryPermitLapsed"
    valid_until: BusinessDate


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
    household_protected: bool = False
    """Another member of the household has a protected identity: this person counts in no
    breakdown by place (municipality, county, reception centre), which would say where the
    household lives; categories still count them (Table 3-1-1 fn 1 is per person)."""
    case_type: CaseType
    permit_date: BusinessDate
    """The person's own permit date: the household's, or a later member's own."""
    municipality_number: MunicipalityNumber
    settled_by: SettlingAuthority = SettlingAuthority.IMDI
    reception_centre: str | None = None
    """The reception centre the household lived in, for the figures by centre."""


class SettlementTargetApproaching(_Data):
    """The warning before the settlement target; the business date is the warning day."""

    type: Literal["SettlementTargetApproaching"] = "SettlementTargetApproaching"
    target_months: int
    target_date: BusinessDate


class SettlementTargetBreached(_Data):
    """Members were still unsettled when the target date ended; the business date is the
    first day past the target."""

    type: Literal["SettlementTargetBreached"] = "SettlementTargetBreached"
    target_months: int
    target_date: BusinessDate
    unsettled_persons: int


class MunicipalityReplyOverdue(_Data):
    """The municipality has not answered within its reply window; the business date is the
    first day past it. The directorate reminds it; the allocation stands."""

    type: Literal["MunicipalityReplyOverdue"] = "MunicipalityReplyOverdue"
    municipality_number: MunicipalityNumber
    reply_due_on: BusinessDate


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
    previous_date: BusinessDate
    reason: CorrectionReason
    target_months: int | None = None
    target_date: BusinessDate | None = None
    """The settlement target the corrected permit date gives."""


class StepDateCorrected(_Data):
    """A step's date was wrong; the business date is the corrected date."""

    type: Literal["StepDateCorrected"] = "StepDateCorrected"
    step: CorrectableStep
    previous_date: BusinessDate
    reason: CorrectionReason


class SettlementDateCorrected(_Data):
    """One person's t1 was wrong; the business date is the corrected settlement date."""

    type: Literal["SettlementDateCorrected"] = "SettlementDateCorrected"
    person_id: PersonId
    previous_date: BusinessDate
    reason: CorrectionReason


# -- the qualification record of one adult (stream id: the person id) --------------------


class RightsAssessed(_Data):
    """A settled adult's qualification record opened; the business date is the settlement
    date. Carries what the figures of the introduction programme need to group by."""

    type: Literal["RightsAssessed"] = "RightsAssessed"
    case_id: CaseId
    municipality_number: MunicipalityNumber
    case_type: CaseType
    rules: str
    programme_right: ProgrammeRight
    norwegian_right: NorwegianRight
    programme_start_due: BusinessDate
    norwegian_start_due: BusinessDate | None
    norwegian_completion_due: BusinessDate | None
    rights_start: BusinessDate
    """When the right to Norwegian training began: the permit, or arrival for resettlement
    refugees (N1). SP4 counts its cohorts from here."""
    protected_identity: bool = False
    """The person has a protected identity: their record's events name them to cleared
    readers only (the municipality feed leaves their id out)."""
    household_protected: bool = False
    """Another member of the household has a protected identity: the record's feed entries
    go to cleared readers only, since they tell where the household lives."""


class QualificationDeadlinesMoved(_Data):
    """The person's settlement date was corrected; the business date is the corrected one."""

    type: Literal["QualificationDeadlinesMoved"] = "QualificationDeadlinesMoved"
    previous_settled_on: BusinessDate
    programme_start_due: BusinessDate
    norwegian_start_due: BusinessDate | None
    norwegian_completion_due: BusinessDate | None
    rights_start: BusinessDate


class QualificationMappingRecorded(_Data):
    type: Literal["QualificationMappingRecorded"] = "QualificationMappingRecorded"


class ProgrammeDecided(_Data):
    type: Literal["ProgrammeDecided"] = "ProgrammeDecided"
    end_goal: EndGoal
    planned_months: int


class ProgrammeStarted(_Data):
    type: Literal["ProgrammeStarted"] = "ProgrammeStarted"


class ProgrammeLeaveRecorded(_Data):
    """The business date is the first day of leave."""

    type: Literal["ProgrammeLeaveRecorded"] = "ProgrammeLeaveRecorded"
    until_on: BusinessDate


class ProgrammeEnded(_Data):
    type: Literal["ProgrammeEnded"] = "ProgrammeEnded"
    reason: ProgrammeEndReason
    main_activity: MainActivity


class ProgrammeStartOverdue(_Data):
    """No programme start within 3 months of settlement; the business date is the day after."""

    type: Literal["ProgrammeStartOverdue"] = "ProgrammeStartOverdue"
    due_on: BusinessDate


class NorwegianTrainingStarted(_Data):
    type: Literal["NorwegianTrainingStarted"] = "NorwegianTrainingStarted"


class NorwegianTrainingCompleted(_Data):
    type: Literal["NorwegianTrainingCompleted"] = "NorwegianTrainingCompleted"


class NorwegianTrainingExempted(_Data):
    type: Literal["NorwegianTrainingExempted"] = "NorwegianTrainingExempted"


class NorwegianStartOverdue(_Data):
    type: Literal["NorwegianStartOverdue"] = "NorwegianStartOverdue"
    due_on: BusinessDate


class NorwegianCompletionOverdue(_Data):
    type: Literal["NorwegianCompletionOverdue"] = "NorwegianCompletionOverdue"
    due_on: BusinessDate


QUALIFICATION_EVENTS = (
    RightsAssessed,
    QualificationDeadlinesMoved,
    QualificationMappingRecorded,
    ProgrammeDecided,
    ProgrammeStarted,
    ProgrammeLeaveRecorded,
    ProgrammeEnded,
    ProgrammeStartOverdue,
    NorwegianTrainingStarted,
    NorwegianTrainingCompleted,
    NorwegianTrainingExempted,
    NorwegianStartOverdue,
    NorwegianCompletionOverdue,
)
"""Events of a person's qualification record; their envelope's case_id is the person id."""


class PlacesRequested(_Data):
    """IMDi asked the municipality to settle refugees in the year (anmodning, C3). The
    business date is the day the request was made known to the system."""

    type: Literal["PlacesRequested"] = "PlacesRequested"
    municipality_number: MunicipalityNumber
    year: int
    requested: int = Field(ge=0)
    requested_unaccompanied_minors: int = Field(0, ge=0)


class PlacesDecided(_Data):
    """The municipal council decided how many it will settle (vedtak, C4); its business date
    is the decision's date. A later one replaces it."""

    type: Literal["PlacesDecided"] = "PlacesDecided"
    municipality_number: MunicipalityNumber
    year: int
    decided: int = Field(ge=0)
    decided_unaccompanied_minors: int = Field(0, ge=0)


class PlacesRequestAdjusted(_Data):
    """IMDi adjusted its request during the year (justert anmodning, C6); no new council
    decision is needed. ``adjusted`` None withdraws an earlier adjustment."""

    type: Literal["PlacesRequestAdjusted"] = "PlacesRequestAdjusted"
    municipality_number: MunicipalityNumber
    year: int
    adjusted: int | None = Field(None, ge=0)


class PlacesTaken(_Data):
    """The places a year's ledger has used, and holds for allocated households, changed by a
    reservation, a release or a settlement: by how much (a change, never a total, so the
    changes add up to the same whatever order they were recorded in, as an import recording
    many households at once with their old registration times does). Counted as a reader
    without clearance sees the ledger: a household with a protected-identity member changes
    no count here, so nothing on the topic says where one lives."""

    type: Literal["PlacesTaken"] = "PlacesTaken"
    municipality_number: MunicipalityNumber
    year: int
    used: int
    """Change in places used (settled persons)."""
    held: int
    """Change in places held for allocated households (negative when released or used)."""
    used_unaccompanied_minors: int = 0
    held_unaccompanied_minors: int = 0


PLACES_EVENTS = (PlacesRequested, PlacesDecided, PlacesRequestAdjusted, PlacesTaken)
"""Events of a municipality's places in a year; their envelope's case_id is the places
stream, ``places-<municipality number>-<year>`` (schemas.places.places_stream_id)."""


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
    | SettlementDateCorrected
    | StepDateCorrected
    | SettlementApplicationReceived
    | SettlementApplicationLapsed
    | HouseholdMemberAdded
    | MunicipalityRecommended
    | SettlementPlanned
    | PlannedSettlementDatePassed
    | TravelBooked
    | ResettlementArrived
    | EntryPermitExtended
    | EntryPermitLapsed
    | RightsAssessed
    | QualificationDeadlinesMoved
    | QualificationMappingRecorded
    | ProgrammeDecided
    | ProgrammeStarted
    | ProgrammeLeaveRecorded
    | ProgrammeEnded
    | ProgrammeStartOverdue
    | NorwegianTrainingStarted
    | NorwegianTrainingCompleted
    | NorwegianTrainingExempted
    | NorwegianStartOverdue
    | NorwegianCompletionOverdue
    | PlacesRequested
    | PlacesDecided
    | PlacesRequestAdjusted
    | PlacesTaken,
    Field(discriminator="type"),
]


class CaseEvent(BaseModel):
    """A domain event with its envelope fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    case_id: CaseId
    """The stream the event belongs to: a household case; for the events of a person's
    qualification record (QUALIFICATION_EVENTS) that person's id; for a municipality's places
    in a year (PLACES_EVENTS) ``places-<number>-<year>``."""
    sequence: int = Field(ge=1, le=2**31 - 1)
    """Position of the event within its case, from 1, without gaps."""
    business_date: BusinessDate
    """When the thing happened (permit decision date, settlement date, ...)."""
    recorded_at: RecordedMoment
    """When the system learned of it."""
    schema_version: Literal[1] = 1
    """Bumped, with an upcaster, when an event's shape changes (see SCHEMA_VERSION)."""
    data: EventData

    @property
    def type(self) -> str:
        return self.data.type
