"""After settlement: one qualification record per adult (domain.md §2.6, kept in NIR) — the
introduction programme and Norwegian training, with their rights and deadlines.

The rights and deadlines come from the rules in force on the person's permit date, versioned
by effective date in workflows/qualification_rules.py."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.calendar import BusinessDate
from schemas.commands import Command
from schemas.enums import CaseType, EducationLevel
from schemas.ids import CaseId, MunicipalityNumber, PersonId


class ProgrammeRight(StrEnum):
    RIGHT_AND_OBLIGATION = "right_and_obligation"
    """In the target group (Q1): the municipality must offer, the person must take part."""
    MAY_BE_OFFERED = "may_be_offered"


class NorwegianRight(StrEnum):
    RIGHT_AND_OBLIGATION = "right_and_obligation"
    OBLIGATION_ONLY = "obligation_only"
    NONE = "none"


class EndGoal(StrEnum):
    """The programme's end goal (PUB-20)."""

    WORK = "work"
    HIGHER_EDUCATION = "higher_education"
    UPPER_SECONDARY = "upper_secondary"
    """Completed upper-secondary: the rule for those under 25 without it."""
    WORK_OR_EDUCATION = "work_or_education"


class ProgrammeEndReason(StrEnum):
    GOAL_REACHED = "goal_reached"
    TIME_USED_UP = "time_used_up"
    STOPPED = "stopped"
    """Stopped by decision (Q6), e.g. for absence."""
    MOVED = "moved"
    OTHER = "other"


class MainActivity(StrEnum):
    """Main activity on leaving the programme (Q7)."""

    WORK = "work"
    EDUCATION = "education"
    WORK_AND_EDUCATION = "work_and_education"
    OTHER = "other"


def qualification_workflow_id(person_id: str) -> str:
    return f"qualification/{person_id}"


def workflow_label(workflow_id: str) -> str:
    """A workflow as logs, checks, alerts and spans name it: a case by its id, a person's
    qualification record without it (a person id could be a protected person's)."""
    if workflow_id.startswith(qualification_workflow_id("")):
        return "a qualification record"
    return workflow_id


class QualificationStart(BaseModel):
    """What the case knows of an adult when they settle: enough to assess their rights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: CaseId
    person_id: PersonId
    birth_date: BusinessDate
    permit_date: BusinessDate
    settled_on: BusinessDate
    municipality_number: MunicipalityNumber
    case_type: CaseType
    education_level: EducationLevel | None = None
    protected_identity: bool = False
    household_protected: bool = False
    """Another member of the household has a protected identity: this record, which names
    the case and the municipality, would tell where they live."""


# -- commands (the municipality's caseworkers) ------------------------------------------


class RecordQualificationMapping(Command):
    """Competence mapping by the municipality (Q2), before the programme decision."""

    mapped_on: BusinessDate


class DecideProgramme(Command):
    """The programme decision (Q4): end goal and planned length."""

    decided_on: BusinessDate
    end_goal: EndGoal
    planned_months: int = Field(ge=3, le=48)
    """From 3 months to 4 years (PUB-20, PUB-21)."""


class StartProgramme(Command):
    started_on: BusinessDate


class RecordLeave(Command):
    """Leave from the programme (Q6), e.g. for birth or adoption."""

    from_on: BusinessDate
    until_on: BusinessDate

    @model_validator(mode="after")
    def _ordered(self) -> "RecordLeave":
        if self.until_on < self.from_on:
            raise ValueError("until_on: may not be before from_on")
        return self


class EndProgramme(Command):
    ended_on: BusinessDate
    reason: ProgrammeEndReason
    main_activity: MainActivity


class StartNorwegianTraining(Command):
    started_on: BusinessDate


class CompleteNorwegianTraining(Command):
    completed_on: BusinessDate


class ExemptNorwegianTraining(Command):
    exempted_on: BusinessDate


class QualificationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: PersonId
    event_ids: list[UUID]


class QualificationState(BaseModel):
    case_id: CaseId
    person_id: PersonId
    municipality_number: MunicipalityNumber
    case_type: CaseType
    rules: str
    """Which version of the rules applies (by the permit date)."""
    programme_right: ProgrammeRight
    norwegian_right: NorwegianRight
    permit_date: date
    settled_on: date
    programme_start_due: date
    norwegian_start_due: date | None
    norwegian_completion_due: date | None
    mapped_on: date | None = None
    programme_decided_on: date | None = None
    end_goal: EndGoal | None = None
    planned_months: int | None = None
    programme_started_on: date | None = None
    leaves: list[tuple[date, date]] = []
    programme_ended_on: date | None = None
    end_reason: ProgrammeEndReason | None = None
    main_activity: MainActivity | None = None
    norwegian_started_on: date | None = None
    norwegian_completed_on: date | None = None
    norwegian_exempted_on: date | None = None
    programme_start_overdue: bool = False
    norwegian_start_overdue: bool = False
    norwegian_completion_overdue: bool = False
    protected: bool = False
    """The person, or a member of their household, has a protected identity: the record is
    shown to cleared readers only (it tells where the household lives)."""
    last_sequence: int = 0
    applied_commands: dict[str, QualificationResult] = {}

    def programme_concluded(self) -> bool:
        if self.programme_ended_on is not None:
            return True
        return (
            self.programme_right is ProgrammeRight.MAY_BE_OFFERED
            and self.programme_decided_on is None
        )

    def norwegian_concluded(self) -> bool:
        return (
            self.norwegian_right is NorwegianRight.NONE
            or self.norwegian_completed_on is not None
            or self.norwegian_exempted_on is not None
        )
