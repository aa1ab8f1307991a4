"""The one command table: every step a caller may take on a case or an adult's qualification
record, declared once — its command model, the workflow update that carries it (the
handler's name), the stages it is allowed at, the track it belongs to, the roles that may
send it and its HTTP path.

Everything else is derived from it: the stage rules (``rules.check_stage``), the services'
updates (``CaseService``, ``QualificationService``), the API's step routes and their
OpenAPI ``x-roles``. Adding a command is one entry here plus its update handler; a test
holds each entry to a handler of that name taking that model.

Pure data: the workflows import it inside their sandbox."""

from dataclasses import dataclass

from schemas.commands import (
    AcceptAllocation,
    AddHouseholdMember,
    AllocateToMunicipality,
    BookTravel,
    Command,
    CorrectPermitDate,
    CorrectSettlementDate,
    CorrectStepDate,
    DeclineAllocation,
    ExtendEntryPermit,
    PlanSettlement,
    RecordArrival,
    RecordCompetenceMapping,
    RecordExit,
    RecordRecommendation,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.enums import CaseStage, CaseType, Role
from schemas.qualification import (
    CompleteNorwegianTraining,
    DecideProgramme,
    EndProgramme,
    ExemptNorwegianTraining,
    RecordLeave,
    RecordQualificationMapping,
    StartNorwegianTraining,
    StartProgramme,
)

R, C, M, A = Role.RECEPTION, Role.CASEWORKER, Role.MUNICIPALITY, Role.ADMINISTRATOR
PERMIT, READY, ALLOCATED, ACCEPTED, SETTLED = (
    CaseStage.PERMIT_GRANTED,
    CaseStage.SETTLEMENT_READY,
    CaseStage.ALLOCATED,
    CaseStage.ACCEPTED,
    CaseStage.SETTLED,
)
BEFORE_SETTLEMENT = frozenset({PERMIT, READY, ALLOCATED, ACCEPTED})
OPEN = BEFORE_SETTLEMENT | {SETTLED}


@dataclass(frozen=True)
class Step:
    """One step: ``POST /cases/{case_id}/<path>`` (or, for the qualification record,
    ``POST /persons/{person_id}/<path>``), carried by the update ``update``."""

    command: type[Command]
    update: str
    path: str
    roles: frozenset[Role]
    """Who may send it; administrators may send every step."""
    summary: str
    stages: frozenset[CaseStage] = frozenset()
    """The case stages it is allowed at (case steps; a qualification record checks its own
    order, workflows/qualification.py)."""
    track: CaseType | None = None
    """The one track it belongs to, if any."""


def _case(
    command: type[Command],
    update: str,
    path: str,
    roles: tuple[Role, ...],
    stages: frozenset[CaseStage],
    summary: str,
    track: CaseType | None = None,
) -> Step:
    return Step(command, update, path, frozenset({*roles, A}), summary, stages, track)


def _person(command: type[Command], update: str, path: str, summary: str) -> Step:
    return Step(command, update, path, frozenset({M, A}), summary)


CASE_STEPS: tuple[Step, ...] = (
    _case(
        RecordSettlementApplication,
        "record_settlement_application",
        "settlement-application",
        (R, C),
        frozenset({PERMIT}),
        "The refugee applied",
        track=CaseType.PRIVATE_ADDRESS,
    ),
    # Competence mapping runs beside the main path and may be recorded any time before
    # settlement (domain: transition A5).
    _case(
        RecordCompetenceMapping,
        "record_competence_mapping",
        "competence-mapping",
        (R, C),
        BEFORE_SETTLEMENT,
        "Competence mapping done",
    ),
    _case(
        RecordSettlementInterview,
        "record_settlement_interview",
        "settlement-interview",
        (R, C),
        frozenset({PERMIT}),
        "Interview held: ready",
    ),
    _case(
        RecordRecommendation,
        "record_recommendation",
        "recommendation",
        (R, C),
        frozenset({PERMIT, READY}),
        "A centre's recommendation",
    ),
    # A household is settled together: members join until it is settled (§2.2 family rule).
    # Family reunification after settlement goes straight to the municipality (§2.5).
    _case(
        AddHouseholdMember,
        "add_household_member",
        "household-members",
        (C,),
        BEFORE_SETTLEMENT,
        "A member joins the household",
    ),
    # Resettlement cases may also be allocated at once, from PERMIT (rules.allowed_stages).
    _case(
        AllocateToMunicipality,
        "allocate_to_municipality",
        "allocation",
        (C,),
        frozenset({READY}),
        "Allocate to a municipality",
    ),
    _case(
        AcceptAllocation,
        "accept_allocation",
        "acceptance",
        (M,),
        frozenset({ALLOCATED}),
        "The municipality accepts",
    ),
    _case(
        DeclineAllocation,
        "decline_allocation",
        "decline",
        (M,),
        frozenset({ALLOCATED}),
        "The municipality declines",
    ),
    _case(
        WithdrawAllocation,
        "withdraw_allocation",
        "withdrawal",
        (C,),
        frozenset({ALLOCATED, ACCEPTED}),
        "Withdraw the allocation",
    ),
    _case(
        PlanSettlement,
        "plan_settlement",
        "settlement-plan",
        (M, C),
        frozenset({ACCEPTED}),
        "Plan the settlement date",
    ),
    _case(
        BookTravel,
        "book_travel",
        "travel",
        (C,),
        frozenset({ACCEPTED}),
        "Resettlement: travel booked",
        track=CaseType.RESETTLEMENT,
    ),
    _case(
        RecordArrival,
        "record_arrival",
        "arrival",
        (M, C),
        frozenset({ACCEPTED}),
        "Resettlement: arrived",
        track=CaseType.RESETTLEMENT,
    ),
    _case(
        ExtendEntryPermit,
        "extend_entry_permit",
        "entry-permit-extension",
        (C,),
        BEFORE_SETTLEMENT,
        "Extend the entry permit",
        track=CaseType.RESETTLEMENT,
    ),
    _case(
        RegisterSettlement,
        "register_settlement",
        "settlements",
        (M,),
        frozenset({ACCEPTED}),
        "Register settlement dates",
    ),
    _case(
        RecordExit,
        "record_exit",
        "exit",
        (C,),
        BEFORE_SETTLEMENT,
        "The case leaves the directorate's scope",
    ),
    _case(
        CorrectPermitDate,
        "correct_permit_date",
        "permit-date-correction",
        (C,),
        OPEN,
        "Correct the permit date",
    ),
    _case(
        CorrectSettlementDate,
        "correct_settlement_date",
        "settlement-date-correction",
        (M, C),
        frozenset({ACCEPTED, SETTLED}),
        "Correct a settlement",
    ),
    _case(
        CorrectStepDate,
        "correct_step_date",
        "step-date-correction",
        (R, C),
        OPEN,
        "Correct a step's date",
    ),
)

PERSON_STEPS: tuple[Step, ...] = (
    _person(
        RecordQualificationMapping, "record_mapping", "mapping", "Competence mapped (municipality)"
    ),
    _person(
        DecideProgramme, "decide_programme", "programme-decision", "Introduction programme decided"
    ),
    _person(StartProgramme, "start_programme", "programme-start", "Introduction programme started"),
    _person(RecordLeave, "record_leave", "leave", "Approved leave from the programme"),
    _person(
        EndProgramme, "end_programme", "programme-end", "Programme ended, with the main activity"
    ),
    _person(
        StartNorwegianTraining,
        "start_norwegian_training",
        "norwegian-start",
        "Norwegian training started",
    ),
    _person(
        CompleteNorwegianTraining,
        "complete_norwegian_training",
        "norwegian-completion",
        "Norwegian training done",
    ),
    _person(
        ExemptNorwegianTraining,
        "exempt_norwegian_training",
        "norwegian-exemption",
        "Exempted from Norwegian",
    ),
)

STEP: dict[type[Command], Step] = {s.command: s for s in (*CASE_STEPS, *PERSON_STEPS)}
"""Each command's step."""
