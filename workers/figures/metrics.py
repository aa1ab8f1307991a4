"""Waiting-time arithmetic: pure functions over plain data, no IO.

Definitions (domain.md §3.4, K1, K2, K7), version ``waiting-time/1``:
- t0 is the permit decision date, t1 the settlement date; a person counts in a period when
  t1 falls inside it (both ends inclusive).
- "within N months" means t1 <= t0 + N calendar months, where adding months keeps the day
  of month and clamps it to the month's last day (31 Aug + 6 months = 28/29 Feb).
- waiting time in months = (t1 - t0) in days / (365.25 / 12); mean and median are over
  persons, computed on whole days and converted at the end.
- persons with protected identity count in the total and in no category (Table 3-1-1 fn 1).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from statistics import median

from pydantic import BaseModel

from schemas.calendar import add_months
from schemas.enums import CaseType, Category, SettlingAuthority
from schemas.events import PersonSettled

METRIC_VERSION = "waiting-time/1"
DEFINITIONS_VERSION = "settlement/1"
"""Version of the steering parameters' definitions (definitions.py)."""
DAYS_PER_MONTH = Fraction(36525, 1200)  # 365.25 / 12, exactly
THRESHOLDS_MONTHS = (3, 6, 12)
TOTAL = "total"


@dataclass(frozen=True)
class SettledFact:
    """One settled person, as the figures need them."""

    category: Category
    protected_identity: bool
    permit_date: date
    settled_on: date
    case_id: str
    case_type: CaseType
    settled_by: SettlingAuthority
    municipality_number: str
    reception_centre: str | None
    competence_mapped: bool = False
    """The household's competence mapping was done by the settlement date (SP6)."""
    household_protected: bool = False
    """Another member has a protected identity: in no breakdown by place."""

    @classmethod
    def of(
        cls, case_id: str, data: PersonSettled, settled_on: date, mapped_on: date | None = None
    ) -> "SettledFact":
        return cls(
            competence_mapped=mapped_on is not None and mapped_on <= settled_on,
            category=data.category,
            protected_identity=data.protected_identity,
            household_protected=data.household_protected,
            permit_date=data.permit_date,
            settled_on=settled_on,
            case_id=case_id,
            case_type=data.case_type,
            settled_by=data.settled_by,
            municipality_number=data.municipality_number,
            reception_centre=data.reception_centre,
        )


def settled_within(fact: SettledFact, months: int) -> bool:
    return fact.settled_on <= add_months(fact.permit_date, months)


def waiting_days(fact: SettledFact) -> int:
    return (fact.settled_on - fact.permit_date).days


def days_to_months(days: Fraction | float | int) -> float:
    return float(Fraction(days) / DAYS_PER_MONTH)


@dataclass(frozen=True)
class QualificationFact:
    """A settled adult's qualification record, as the qualification figures need it."""

    person_id: str
    case_type: CaseType
    programme_right: str
    norwegian_right: str
    settled_on: date
    rights_start: date
    programme_started_on: date | None
    programme_ended_on: date | None
    main_activity: str | None
    norwegian_started_on: date | None


class GroupFigures(BaseModel):
    group: str
    settled: int
    within_3_months: int
    within_6_months: int
    within_12_months: int
    mean_wait_days: Fraction | None
    median_wait_days: Fraction | None

    def share(self, months: int) -> float | None:
        count = {3: self.within_3_months, 6: self.within_6_months, 12: self.within_12_months}
        return count[months] / self.settled if self.settled else None

    @property
    def mean_wait_months(self) -> float | None:
        return None if self.mean_wait_days is None else days_to_months(self.mean_wait_days)

    @property
    def median_wait_months(self) -> float | None:
        return None if self.median_wait_days is None else days_to_months(self.median_wait_days)


class MetricResult(BaseModel):
    """One figure of definitions.py: numerator, denominator, share, by a version."""

    id: str
    name: str
    unit: str
    numerator: int
    denominator: int
    share: float | None
    target: float | None
    version: str = DEFINITIONS_VERSION

    @property
    def met(self) -> bool | None:
        if self.share is None or self.target is None:
            return None
        return self.share >= self.target


class WaitingTimeReport(BaseModel):
    metric_version: str = METRIC_VERSION
    period_start: date
    period_end: date
    groups: list[GroupFigures]
    by: str = "category"
    """What the groups break the figures down by."""
    as_of: datetime | None = None
    """The figures as they were known at this moment; none for as known now."""
    steering: list[MetricResult] = []
    """The steering parameters and other shares of definitions.py, if computed."""
    waited_over_12_months: int | None = None

    def group(self, name: str) -> GroupFigures:
        return next(g for g in self.groups if g.group == name)


def figures_for(group: str, facts: list[SettledFact]) -> GroupFigures:
    days = [waiting_days(f) for f in facts]
    return GroupFigures(
        group=group,
        settled=len(facts),
        within_3_months=sum(settled_within(f, 3) for f in facts),
        within_6_months=sum(settled_within(f, 6) for f in facts),
        within_12_months=sum(settled_within(f, 12) for f in facts),
        mean_wait_days=Fraction(sum(days), len(days)) if days else None,
        median_wait_days=Fraction(median(days)) if days else None,
    )


def waiting_time_report(
    facts: Iterable[SettledFact], period_start: date, period_end: date
) -> WaitingTimeReport:
    """K1, K2 and K7 for persons settled between period_start and period_end inclusive."""
    in_period = [f for f in facts if period_start <= f.settled_on <= period_end]
    groups = [
        figures_for(
            category.value,
            [f for f in in_period if f.category is category and not f.protected_identity],
        )
        for category in Category
    ]
    groups.append(figures_for(TOTAL, in_period))
    return WaitingTimeReport(period_start=period_start, period_end=period_end, groups=groups)


STOCK_VERSION = "stock/1"


class StockReport(BaseModel):
    """Who was waiting at the end of a reference day (K8, K9 and the companion count)."""

    metric_version: str = STOCK_VERSION
    on: date
    as_of: datetime | None = None
    waiting_in_reception: int
    """K9: settlement-ready persons of the reception track not settled or gone by the day."""
    median_wait_days: Fraction | None
    """K8: median of (day - t0) over them, exact."""
    waiting_abroad: int
    """Resettlement refugees with an entry permit who had not arrived."""
    by_wait: dict[str, int] = {}
    """Those waiting in reception by how long since their permit, in calendar months as the
    settlement figures count them: up to 3, 3 to 6, 6 to 12, over 12."""

    @property
    def median_wait_months(self) -> float | None:
        return None if self.median_wait_days is None else days_to_months(self.median_wait_days)
