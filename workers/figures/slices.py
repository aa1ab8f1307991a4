"""Periods and breakdowns of the figures: any slice of the same facts.

Periods: a year (``2020``), a quarter (``2020-Q3``), a month (``2020-07``), or the rolling
twelve months ending with a month (``12m:2020-12``), all inclusive of both ends.

Breakdowns: category, case type, municipality, county, reception centre, settling authority.
Persons with protected identity are left out of every breakdown and counted in the total
only: a breakdown by municipality must not say where such a person lives. A breakdown by
place leaves out the other members of their household too, since where those settled is
where the protected person lives."""

import calendar
import re
from collections.abc import Callable, Iterable
from datetime import date

from schemas.calendar import add_months
from workers.figures.metrics import TOTAL, GroupFigures, SettledFact, figures_for

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ROLLING = re.compile(r"^12m:(\d{4})-(\d{2})$")


class BadPeriod(ValueError):
    pass


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> tuple[date, date]:
    """First and last day of a period written as 2020, 2020-Q3, 2020-07 or 12m:2020-12."""
    if m := _YEAR.match(text):
        year = int(m[1])
        return date(year, 1, 1), date(year, 12, 31)
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        first = 3 * quarter - 2
        return date(year, first, 1), _month_end(year, first + 2)
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise BadPeriod("period: the month must be 01 to 12")
        return date(year, month, 1), _month_end(year, month)
    if m := _ROLLING.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise BadPeriod("period: the month must be 01 to 12")
        end = _month_end(year, month)
        return add_months(date(year, month, 1), -11), end
    raise BadPeriod(
        "period: must be a year (2020), quarter (2020-Q3), month (2020-07) or rolling twelve "
        "months (12m:2020-12)"
    )


Key = Callable[[SettledFact], str]


def breakdown_keys(county_of: Callable[[str, date], str]) -> dict[str, Key]:
    return {
        "category": lambda f: f.category.value,
        "case_type": lambda f: f.case_type.value,
        "municipality": lambda f: f.municipality_number,
        "county": lambda f: county_of(f.municipality_number, f.settled_on),
        "reception_centre": lambda f: f.reception_centre or "none",
        "settled_by": lambda f: f.settled_by.value,
    }


BREAKDOWNS = tuple(breakdown_keys(lambda number, day: "").keys())
PLACES = frozenset({"municipality", "county", "reception_centre"})
"""Breakdowns that say where someone is: whole households with a protected member stay out."""


def breakdown(
    facts: Iterable[SettledFact], key: Key, *, by_place: bool = False
) -> list[GroupFigures]:
    """Figures per value of ``key``, sorted, and the total last (protected identities in the
    total only; ``by_place``: their households' other members too)."""
    facts = list(facts)
    groups: dict[str, list[SettledFact]] = {}
    for f in facts:
        if not (f.protected_identity or (by_place and f.household_protected)):
            groups.setdefault(key(f), []).append(f)
    return [figures_for(name, groups[name]) for name in sorted(groups)] + [
        figures_for(TOTAL, facts)
    ]
