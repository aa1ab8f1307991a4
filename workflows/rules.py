"""Pure rules of the settlement case: which command each stage allows, which dates may
follow which, and how the statistics derive a household's category. No IO, no Temporal."""

from collections.abc import Iterable
from datetime import date, timedelta

from schemas.calendar import add_months
from schemas.commands import PersonRecord
from schemas.enums import CaseStage, CaseType, Category
from schemas.errors import INVALID_COMMAND, OUT_OF_ORDER
from schemas.state import CaseState

ADULT_AGE = 18

ALLOWED_STAGES: dict[str, frozenset[CaseStage]] = {
    # Competence mapping runs beside the main path and may be recorded any time before
    # settlement (domain: transition A5).
    "record_competence_mapping": frozenset(
        {
            CaseStage.PERMIT_GRANTED,
            CaseStage.SETTLEMENT_READY,
            CaseStage.ALLOCATED,
            CaseStage.ACCEPTED,
        }
    ),
    "record_settlement_interview": frozenset({CaseStage.PERMIT_GRANTED}),
    "allocate_to_municipality": frozenset({CaseStage.SETTLEMENT_READY}),
    "accept_allocation": frozenset({CaseStage.ALLOCATED}),
    "decline_allocation": frozenset({CaseStage.ALLOCATED}),
    "register_settlement": frozenset({CaseStage.ACCEPTED}),
    "withdraw_allocation": frozenset({CaseStage.ALLOCATED, CaseStage.ACCEPTED}),
    "record_exit": frozenset(
        {
            CaseStage.PERMIT_GRANTED,
            CaseStage.SETTLEMENT_READY,
            CaseStage.ALLOCATED,
            CaseStage.ACCEPTED,
        }
    ),
    "correct_permit_date": frozenset(
        {
            CaseStage.PERMIT_GRANTED,
            CaseStage.SETTLEMENT_READY,
            CaseStage.ALLOCATED,
            CaseStage.ACCEPTED,
            CaseStage.SETTLED,
        }
    ),
    "correct_settlement_date": frozenset({CaseStage.ACCEPTED, CaseStage.SETTLED}),
}

CLOSED_STAGES = frozenset({CaseStage.SETTLED, CaseStage.EXITED})


class RuleViolation(Exception):
    """A command breaks a rule; ``reason`` is OUT_OF_ORDER or INVALID_COMMAND."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_stage(state: CaseState, command: str) -> None:
    allowed = ALLOWED_STAGES[command]
    if state.stage not in allowed:
        expected = ", ".join(sorted(s.value for s in allowed))
        raise RuleViolation(
            f"{command} is not allowed while the case is at stage '{state.stage.value}' "
            f"(allowed at: {expected})",
            OUT_OF_ORDER,
        )


def check_date_order(field: str, value: date, after_name: str, after: date | None) -> None:
    """A step may not be dated before the step it follows."""
    if after is not None and value < after:
        raise RuleViolation(
            f"{field}: {value.isoformat()} is before {after_name} {after.isoformat()}",
            INVALID_COMMAND,
        )


def check_not_in_future(field: str, value: date, today: date) -> None:
    if value > today:
        raise RuleViolation(
            f"{field}: {value.isoformat()} is in the future (today is {today.isoformat()})",
            INVALID_COMMAND,
        )


def check_settlements(state: CaseState, person_ids: Iterable[str]) -> None:
    members = {p.person_id for p in state.persons}
    for person_id in person_ids:
        if person_id not in members:
            raise RuleViolation(
                f"settlements: person_id {person_id!r} is not a member of this household",
                INVALID_COMMAND,
            )
        if person_id in state.settled:
            raise RuleViolation(
                f"settlements: person_id {person_id!r} already has a settlement date",
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
    ]
    for name, day in later:
        if day is not None and permit_date > day:
            raise RuleViolation(
                f"permit_date: {permit_date.isoformat()} is after {name} {day.isoformat()}",
                INVALID_COMMAND,
            )
    for person in state.persons:
        if person.birth_date > permit_date:
            raise RuleViolation(
                "permit_date: may not be before a member's birth date", INVALID_COMMAND
            )


def check_settlement_correction(
    state: CaseState, person_id: str, settled_on: date, today: date
) -> None:
    if person_id not in state.settled:
        raise RuleViolation(
            f"person_id: {person_id!r} has no settlement date to correct", INVALID_COMMAND
        )
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


WARNING_LEAD_DAYS = 30
"""How long before the settlement target the warning comes."""


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
