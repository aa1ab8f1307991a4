"""Breakdowns of the figures: any slice of the same facts (periods are parsed in
``periods.py``).

Breakdowns: category, case type, municipality, county, reception centre, settling authority.
Persons with protected identity are left out of every breakdown and counted in the total
only: a breakdown by municipality must not say where such a person lives. A breakdown by
place leaves out the other members of their household too, since where those settled is
where the protected person lives."""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Protocol

from workers.figures.metrics import TOTAL, GroupFigures, SettledFact, figures_for

Key = Callable[[SettledFact], str]


class Geography(Protocol):
    """Where a recorded municipality number belongs on a day: its municipality in the
    structure then in force (after mergers and renumberings) and that one's county. The real
    one is the municipality register (``workers/allocation/municipalities.py``)."""

    def municipality_on(self, number: str, day: date) -> str: ...

    def county_on(self, number: str, day: date) -> str: ...


class AsRecorded:
    """No classification at hand: a municipality as its number was recorded, its county
    unknown."""

    def municipality_on(self, number: str, day: date) -> str:
        return number

    def county_on(self, number: str, day: date) -> str:
        return "unknown"


AS_RECORDED = AsRecorded()


def breakdown_keys(
    geography: Geography = AS_RECORDED,
    *,
    day_of: Callable[[SettledFact], date] = lambda f: f.settled_on,
) -> dict[str, Key]:
    """The keys of each breakdown. A place is named in the structure in force on
    ``day_of(fact)`` — the end of the period, or the settlement date (report.py) — through
    ``geography``, which follows a renumbered municipality."""
    return {
        "category": lambda f: f.category.value,
        "case_type": lambda f: f.case_type.value,
        "municipality": lambda f: geography.municipality_on(f.municipality_number, day_of(f)),
        "county": lambda f: geography.county_on(f.municipality_number, day_of(f)),
        "reception_centre": lambda f: f.reception_centre or "none",
        "settled_by": lambda f: f.settled_by.value,
    }


BREAKDOWNS = tuple(breakdown_keys().keys())
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
