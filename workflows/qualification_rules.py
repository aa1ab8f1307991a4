"""The rules of the qualification track, versioned by effective date (domain.md §2.6).

Which act applies follows the person's permit date: the Introduction Act for permits before
1 January 2021, the Integration Act from then, and its 2026 amendment (age limit 55 → 60,
Innst. 410 L (2024–2025), PUB-24) from 1 January 2026 [INFERRED: the amendment's transition
rule is taken to follow the permit date like the 2021 one]. A new version is a new entry in
RULES; a shipped entry never changes, so a record keeps the rules it was assessed under.

Ages are completed years on the permit date, limits inclusive. Pure: no IO, no Temporal."""

from dataclasses import dataclass
from datetime import date

from schemas.calendar import add_months
from schemas.enums import CaseType, EducationLevel
from schemas.qualification import NorwegianRight, ProgrammeRight, QualificationStart
from workflows.rules import age_on

START_WITHIN_MONTHS = 3
"""Programme decision and start, and the Norwegian training offer: within 3 months of
settlement (§12, Q4–Q5; N2)."""


@dataclass(frozen=True)
class RuleSet:
    name: str
    effective_from: date
    programme_ages: tuple[int, int]
    """Right and obligation to the introduction programme (Q1)."""
    norwegian_right_ages: tuple[int, int]
    """Right and obligation to Norwegian training (N1)."""
    norwegian_obligation_ages: tuple[int, int] | None
    """Obligation only, without the right (Introduction Act)."""
    completion_months_with_upper_secondary: int
    completion_months_otherwise: int
    """Norwegian training must be completed within this many months of the right (N3)."""
    source: str


RULES: tuple[RuleSet, ...] = (
    RuleSet(
        name="introduction_act",
        effective_from=date(2004, 9, 1),
        programme_ages=(18, 55),
        # Introduction Act §17: right and obligation 16–55, obligation only 55–67
        # [check against Lovdata; the seed gives only the 3-year completion rule].
        norwegian_right_ages=(16, 55),
        norwegian_obligation_ages=(56, 67),
        completion_months_with_upper_secondary=36,
        completion_months_otherwise=36,
        source="PUB-33; SEED L2313-2320 (SP5: 3 years)",
    ),
    RuleSet(
        name="integration_act_2021",
        effective_from=date(2021, 1, 1),
        programme_ages=(18, 55),
        norwegian_right_ages=(18, 67),
        norwegian_obligation_ages=None,
        completion_months_with_upper_secondary=18,
        completion_months_otherwise=36,
        source="PUB-18, PUB-25",
    ),
    RuleSet(
        name="integration_act_2026",
        effective_from=date(2026, 1, 1),
        programme_ages=(18, 60),
        norwegian_right_ages=(18, 67),
        norwegian_obligation_ages=None,
        completion_months_with_upper_secondary=18,
        completion_months_otherwise=36,
        source="Innst. 410 L (2024-2025), PUB-24",
    ),
)


class NoRulesFor(ValueError):
    pass


def rules_for(permit_date: date) -> RuleSet:
    applicable = [r for r in RULES if r.effective_from <= permit_date]
    if not applicable:
        raise NoRulesFor(f"permit_date: no qualification rules before {RULES[0].effective_from}")
    return applicable[-1]


@dataclass(frozen=True)
class Rights:
    rules: str
    programme_right: ProgrammeRight
    norwegian_right: NorwegianRight
    programme_start_due: date
    norwegian_start_due: date | None
    norwegian_completion_due: date | None


def _within(age: int, ages: tuple[int, int] | None) -> bool:
    return ages is not None and ages[0] <= age <= ages[1]


def assess(start: QualificationStart) -> Rights:
    rules = rules_for(start.permit_date)
    age = age_on(start.birth_date, start.permit_date)
    programme = (
        ProgrammeRight.RIGHT_AND_OBLIGATION
        if _within(age, rules.programme_ages)
        else ProgrammeRight.MAY_BE_OFFERED
    )
    if _within(age, rules.norwegian_right_ages):
        norwegian = NorwegianRight.RIGHT_AND_OBLIGATION
    elif _within(age, rules.norwegian_obligation_ages):
        norwegian = NorwegianRight.OBLIGATION_ONLY
    else:
        norwegian = NorwegianRight.NONE
    start_due = add_months(start.settled_on, START_WITHIN_MONTHS)
    completion_due = None
    if norwegian is not NorwegianRight.NONE:
        months = (
            rules.completion_months_with_upper_secondary
            if start.education_level in (EducationLevel.UPPER_SECONDARY, EducationLevel.HIGHER)
            else rules.completion_months_otherwise
        )
        completion_due = add_months(rights_start(start), months)
    return Rights(
        rules=rules.name,
        programme_right=programme,
        norwegian_right=norwegian,
        programme_start_due=start_due,
        norwegian_start_due=start_due if norwegian is not NorwegianRight.NONE else None,
        norwegian_completion_due=completion_due,
    )


def rights_start(start: QualificationStart) -> date:
    """The right to Norwegian training starts with the permit, or on arrival for those
    granted it before entry: resettlement refugees, whose arrival is their settlement (N1)."""
    return start.settled_on if start.case_type is CaseType.RESETTLEMENT else start.permit_date


def is_live(start: QualificationStart, today: date) -> bool:
    """Whether a qualification record is worth opening: some deadline is still ahead. A
    historical settlement (an import, the 2020 demo) opens none; its programme is long over."""
    try:
        rights = assess(start)
    except NoRulesFor:
        return False
    latest = max(d for d in (rights.programme_start_due, rights.norwegian_completion_due) if d)
    return today <= latest
