"""Pure rules of the settlement case: which stage and track each command needs (declared in
steps.py), what each command must meet (check_command), which dates may
follow which, and how the statistics derive a household's category. No IO, no Temporal."""

from collections.abc import Iterable
from datetime import date, timedelta

from schemas.calendar import add_months
from schemas.commands import (
    APPLICATION_MONTHS,
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
    PersonRecord,
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
from schemas.enums import CaseStage, CaseType, Category, CorrectableStep, SettlingAuthority
from schemas.errors import INVALID_COMMAND, OUT_OF_ORDER
from schemas.state import CaseState
from workflows.steps import STEP

ADULT_AGE = 18

# Refusals name the field and the rule, never the value sent: a person id or date typed into
# the wrong field must not come back in an error (nor reach a log). The two below are also
# what the API answers an uncleared caller who names a protected member (access.py).
NOT_A_MEMBER = "settlements: a person_id is not a member of this household"
NO_SETTLEMENT_TO_CORRECT = "person_id: has no settlement date to correct"

CLOSED_STAGES = frozenset({CaseStage.SETTLED, CaseStage.EXITED})

MAX_HOUSEHOLD = 30
ENTRY_PERMIT_MONTHS = 6
"""Resettlement: the entry permit is valid 6 months from the decision (PUB-10)."""
BUFETAT_BELOW_AGE = 15
"""Unaccompanied minors under 15 are settled by Bufetat, 15–17 by IMDi (§2.4)."""


class RuleViolation(Exception):
    """A command breaks a rule; ``reason`` is OUT_OF_ORDER or INVALID_COMMAND."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def allowed_stages(state: CaseState, command: type[Command]) -> frozenset[CaseStage]:
    allowed = STEP[command].stages
    if command is AllocateToMunicipality and state.case_type is CaseType.RESETTLEMENT:
        # Resettlement refugees are interviewed abroad, before the entry permit, or selected
        # on dossier without one (§2.3 R2, R2d): they may be allocated at once.
        allowed = allowed | {CaseStage.PERMIT_GRANTED}
    return allowed


def check_stage(state: CaseState, command: type[Command]) -> None:
    step = STEP[command]
    if step.track is not None and state.case_type is not step.track:
        raise RuleViolation(
            f"{step.update} applies to {step.track.value} cases only "
            f"(this case is {state.case_type.value})",
            OUT_OF_ORDER,
        )
    allowed = allowed_stages(state, command)
    if state.stage not in allowed:
        expected = ", ".join(sorted(s.value for s in allowed))
        raise RuleViolation(
            f"{step.update} is not allowed while the case is at stage '{state.stage.value}' "
            f"(allowed at: {expected})",
            OUT_OF_ORDER,
        )


def check_command(state: CaseState, cmd: Command, today: date) -> None:
    """Every rule a case command must meet, by its type: its stage and track, then its
    dates and its own conditions. Raises RuleViolation; changes nothing."""
    s = state
    check_stage(s, type(cmd))
    match cmd:
        case RecordCompetenceMapping(mapped_on=d):
            check_not_in_future("mapped_on", d, today)
        case RecordSettlementInterview(held_on=d):
            check_interview(s)
            check_not_in_future("held_on", d, today)
            check_date_order("held_on", d, "the permit date", s.permit_date)
        case AllocateToMunicipality(allocated_on=d):
            check_not_in_future("allocated_on", d, today)
            check_date_order("allocated_on", d, "the interview", s.interview_held_on)
        case AcceptAllocation(accepted_on=d):
            check_not_in_future("accepted_on", d, today)
            check_date_order("accepted_on", d, "the allocation", s.allocated_on)
        case DeclineAllocation(declined_on=d):
            check_not_in_future("declined_on", d, today)
            check_date_order("declined_on", d, "the allocation", s.allocated_on)
        case WithdrawAllocation(withdrawn_on=d):
            check_not_in_future("withdrawn_on", d, today)
            check_date_order("withdrawn_on", d, "the allocation", s.allocated_on)
        case RecordExit(exited_on=d):
            check_not_in_future("exited_on", d, today)
            check_date_order("exited_on", d, "the permit date", s.permit_date)
        case CorrectPermitDate(permit_date=d):
            check_permit_correction(s, d, today)
        case CorrectStepDate(step=step, on=d):
            check_step_correction(s, step, d, today)
        case CorrectSettlementDate(person_id=person_id, settled_on=d):
            check_settlement_correction(s, person_id, d, today)
        case RecordSettlementApplication(applied_on=d):
            check_application(s, d, today)
        case RecordRecommendation(recommended_on=d):
            check_not_in_future("recommended_on", d, today)
            check_date_order("recommended_on", d, "the permit date", s.permit_date)
        case AddHouseholdMember(person=person, permit_date=d):
            check_new_member(s, person, d, today)
        case PlanSettlement(registered_on=d):
            check_not_in_future("registered_on", d, today)
            check_date_order("registered_on", d, "acceptance", s.accepted_on)
        case BookTravel(booked_on=booked_on, arrival_on=arrival_on):
            check_travel(s, booked_on, arrival_on, today)
        case RecordArrival(arrived_on=d):
            check_arrival(s, d, today)
        case ExtendEntryPermit(decided_on=d, valid_until=valid_until):
            check_not_in_future("decided_on", d, today)
            check_extension(s, valid_until)
        case RegisterSettlement(settlements=settlements):
            check_settlements(s, (x.person_id for x in settlements))
            for x in settlements:
                check_not_in_future("settled_on", x.settled_on, today)
                # Not before the acceptance ("søkt ut") date: PUB-15 in domain.md.
                check_date_order("settled_on", x.settled_on, "acceptance", s.accepted_on)


def check_date_order(field: str, value: date, after_name: str, after: date | None) -> None:
    """A step may not be dated before the step it follows."""
    if after is not None and value < after:
        raise RuleViolation(
            f"{field}: may not be before {after_name} ({after.isoformat()})",
            INVALID_COMMAND,
        )


def check_not_in_future(field: str, value: date, today: date) -> None:
    if value > today:
        raise RuleViolation(
            f"{field}: may not be in the future",
            INVALID_COMMAND,
        )


def check_settlements(state: CaseState, person_ids: Iterable[str]) -> None:
    members = {p.person_id for p in state.persons}
    for person_id in person_ids:
        if person_id not in members:
            raise RuleViolation(
                NOT_A_MEMBER,
                INVALID_COMMAND,
            )
        if person_id in state.settled:
            raise RuleViolation(
                "settlements: a person_id already has a settlement date",
                INVALID_COMMAND,
            )


def check_interview(state: CaseState) -> None:
    if state.dossier:
        raise RuleViolation(
            "record_settlement_interview: a dossier case has no pre-arrival interview (R2d)",
            OUT_OF_ORDER,
        )
    if state.application_due_on is not None and state.applied_on is None:
        raise RuleViolation(
            "record_settlement_interview: a private-address case needs its settlement "
            "application first (record_settlement_application)",
            OUT_OF_ORDER,
        )


def check_application(state: CaseState, applied_on: date, today: date) -> None:
    check_not_in_future("applied_on", applied_on, today)
    check_date_order("applied_on", applied_on, "the permit date", state.permit_date)
    due = state.application_due_on
    if due is not None and applied_on > due:
        raise RuleViolation(
            f"applied_on: may not be after the application deadline ({due.isoformat()})",
            INVALID_COMMAND,
        )


def check_new_member(
    state: CaseState, person: PersonRecord, permit_date: date, today: date
) -> None:
    if any(p.person_id == person.person_id for p in state.persons):
        raise RuleViolation(
            "person.person_id: is already a member of this household",
            INVALID_COMMAND,
        )
    if len(state.persons) >= MAX_HOUSEHOLD:
        raise RuleViolation(
            f"person: a household has at most {MAX_HOUSEHOLD} members", INVALID_COMMAND
        )
    check_not_in_future("permit_date", permit_date, today)
    check_date_order("permit_date", permit_date, "the household's permit date", state.permit_date)


def check_not_arrived(state: CaseState, command: str) -> None:
    if state.arrived_on is not None:
        raise RuleViolation(
            f"{command}: the household arrived on {state.arrived_on.isoformat()}", OUT_OF_ORDER
        )


def check_travel(state: CaseState, booked_on: date, arrival_on: date, today: date) -> None:
    check_not_arrived(state, "book_travel")
    check_not_in_future("booked_on", booked_on, today)
    check_date_order("booked_on", booked_on, "acceptance", state.accepted_on)
    check_within_entry_permit(state, "arrival_on", arrival_on)


def check_arrival(state: CaseState, arrived_on: date, today: date) -> None:
    check_not_arrived(state, "record_arrival")
    if state.travel_arrival_on is None:
        raise RuleViolation(
            "record_arrival: travel must be booked first (book_travel)", OUT_OF_ORDER
        )
    check_not_in_future("arrived_on", arrived_on, today)
    check_date_order("arrived_on", arrived_on, "acceptance", state.accepted_on)
    check_within_entry_permit(state, "arrived_on", arrived_on)


def check_within_entry_permit(state: CaseState, field: str, day: date) -> None:
    valid_until = state.entry_permit_valid_until
    if valid_until is not None and day > valid_until:
        raise RuleViolation(
            f"{field}: may not be after the entry permit runs out ({valid_until.isoformat()}; "
            "extend_entry_permit first)",
            INVALID_COMMAND,
        )


def check_extension(state: CaseState, valid_until: date) -> None:
    current = state.entry_permit_valid_until
    if current is not None and valid_until <= current:
        raise RuleViolation(
            f"valid_until: does not extend the entry permit (valid until {current.isoformat()})",
            INVALID_COMMAND,
        )


def check_permit_correction(state: CaseState, permit_date: date, today: date) -> None:
    """A corrected t0 may not come after any step that follows it, nor before a birth."""
    check_not_in_future("permit_date", permit_date, today)
    later = [
        ("the settlement interview", state.interview_held_on),
        ("the allocation", state.allocated_on),
        ("acceptance", state.accepted_on),
        *(("a settlement", p.settled_on) for p in state.settled.values()),
        *(("a later member's permit", d) for d in state.member_permit_dates.values()),
    ]
    for name, day in later:
        if day is not None and permit_date > day:
            raise RuleViolation(
                f"permit_date: may not be after {name} ({day.isoformat()})",
                INVALID_COMMAND,
            )
    for person in state.persons:
        if person.person_id in state.member_permit_dates:
            continue
        if person.birth_date > permit_date:
            raise RuleViolation(
                "permit_date: may not be before a member's birth date", INVALID_COMMAND
            )


STEP_FIELDS: dict[CorrectableStep, str] = {
    CorrectableStep.SETTLEMENT_APPLICATION: "applied_on",
    CorrectableStep.COMPETENCE_MAPPING: "competence_mapped_on",
    CorrectableStep.SETTLEMENT_INTERVIEW: "interview_held_on",
    CorrectableStep.ALLOCATION: "allocated_on",
    CorrectableStep.ACCEPTANCE: "accepted_on",
}
"""The CaseState field holding each correctable step's date."""


def check_step_correction(state: CaseState, step: CorrectableStep, day: date, today: date) -> None:
    """The step must have happened, and its new date must still sit between the steps
    around it (the same order the commands demand)."""
    field = STEP_FIELDS[step]
    if getattr(state, field) is None:
        raise RuleViolation(f"step: the case has no {step.value} to correct", INVALID_COMMAND)
    check_not_in_future("on", day, today)
    settled = [p.settled_on for p in state.settled.values()]
    before: list[tuple[str, date | None]] = []
    after: list[tuple[str, date | None]] = []
    match step:
        case CorrectableStep.SETTLEMENT_APPLICATION:
            before = [("the permit date", state.permit_date)]
            after = [("the settlement interview", state.interview_held_on)]
            due = state.application_due_on
            if due is not None and day > due:
                raise RuleViolation(
                    f"on: may not be after the application deadline ({due.isoformat()})",
                    INVALID_COMMAND,
                )
        case CorrectableStep.COMPETENCE_MAPPING:
            pass  # runs beside the path; may even precede the permit (resettlement)
        case CorrectableStep.SETTLEMENT_INTERVIEW:
            before = [("the permit date", state.permit_date), ("the application", state.applied_on)]
            after = [("the allocation", state.allocated_on)]
        case CorrectableStep.ALLOCATION:
            before = [("the settlement interview", state.interview_held_on)]
            after = [("acceptance", state.accepted_on)]
            allocated = state.allocated_on
            if allocated is not None and day.year != allocated.year:
                raise RuleViolation(
                    f"on: the allocation's places are in the {allocated.year} ledger; a "
                    "correction may not move it to another year (withdraw and allocate again)",
                    INVALID_COMMAND,
                )
        case CorrectableStep.ACCEPTANCE:
            before = [("the allocation", state.allocated_on)]
            after = [*(("a settlement", d) for d in settled)]
    for name, bound in before:
        check_date_order("on", day, name, bound)
    for name, bound in after:
        if bound is not None and day > bound:
            raise RuleViolation(
                f"on: may not be after {name} ({bound.isoformat()})", INVALID_COMMAND
            )


def check_settlement_correction(
    state: CaseState, person_id: str, settled_on: date, today: date
) -> None:
    if person_id not in state.settled:
        raise RuleViolation(NO_SETTLEMENT_TO_CORRECT, INVALID_COMMAND)
    check_not_in_future("settled_on", settled_on, today)
    check_date_order("settled_on", settled_on, "acceptance", state.accepted_on)
    check_date_order("settled_on", settled_on, "the permit date", state.permit_date)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``; someone born on 29 February ages on 1 March."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def household_category(persons: Iterable[PersonRecord], settled_on: date) -> Category:
    """The category of Table 3-1-1, from the members' ages on the settlement date.

    A household of minors only is settled as unaccompanied minors; a household with at least
    one child and one adult is a family with children (adults and children alike, fn. 2);
    everyone else is an other adult (fn. 3).
    """
    ages = [age_on(p.birth_date, settled_on) for p in persons]
    has_child = any(a < ADULT_AGE for a in ages)
    has_adult = any(a >= ADULT_AGE for a in ages)
    if has_child and not has_adult:
        return Category.UNACCOMPANIED_MINOR
    if has_child:
        return Category.FAMILY_WITH_CHILDREN
    return Category.OTHER_ADULT


def application_due(permit_date: date) -> date:
    """Private address: the last day to apply for settlement."""
    return add_months(permit_date, APPLICATION_MONTHS)


def entry_permit_expiry(permit_date: date) -> date:
    """The last day of a resettlement entry permit's validity."""
    return add_months(permit_date, ENTRY_PERMIT_MONTHS)


def settling_authority(persons: Iterable[PersonRecord], permit_date: date) -> SettlingAuthority:
    """Bufetat settles unaccompanied minors under 15, IMDi everyone else (§2.4, SEED fn 19).

    Age at arrival is not in the register; age on the permit date stands for it [INFERRED].
    Siblings stay together, so a household of minors goes to Bufetat if its youngest is
    under 15 [INFERRED]."""
    persons = list(persons)
    if household_category(persons, permit_date) is not Category.UNACCOMPANIED_MINOR:
        return SettlingAuthority.IMDI
    youngest = min(age_on(p.birth_date, permit_date) for p in persons)
    return SettlingAuthority.BUFETAT if youngest < BUFETAT_BELOW_AGE else SettlingAuthority.IMDI


def settlement_target_months(case_type: CaseType, category: Category) -> int:
    """The steering parameters' targets (domain.md §3.2, SEED L1663–1666): resettlement
    refugees (SP13.1) and other adults (SP13.2) within 6 months; unaccompanied minors (SP13.3)
    and families with children (SP13.4) within 3."""
    if case_type is CaseType.RESETTLEMENT:
        return 6
    if category in (Category.UNACCOMPANIED_MINOR, Category.FAMILY_WITH_CHILDREN):
        return 3
    return 6


def settlement_target(
    case_type: CaseType, persons: Iterable[PersonRecord], permit_date: date
) -> tuple[int, date]:
    """Months and date of the settlement target, from the category the household has on the
    permit date (the category at settlement may differ if a minor comes of age meanwhile)."""
    months = settlement_target_months(case_type, household_category(persons, permit_date))
    return months, add_months(permit_date, months)


REPLY_WINDOW_DAYS: dict[CaseType, int] = {CaseType.RESETTLEMENT: 7}
"""How long a municipality has to answer an allocation: one week for resettlement refugees
(domain.md §2.3 R4, PUB-9). No window is documented for the other tracks."""


def reply_due(case_type: CaseType, allocated_on: date) -> date | None:
    days = REPLY_WINDOW_DAYS.get(case_type)
    return None if days is None else allocated_on + timedelta(days=days)
