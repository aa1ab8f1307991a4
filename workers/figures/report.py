"""The report a caller asks for: the figures of a period, broken down one way, with the
steering parameters, as known now or as of a past moment. Pure."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from workers.figures.definitions import in_period, steering_figures, waited_longer_than
from workers.figures.metrics import (
    DEFINITIONS_VERSION,
    QualificationFact,
    SettledFact,
    WaitingTimeReport,
    waiting_time_report,
)
from workers.figures.slices import AS_RECORDED, PLACES, Geography, breakdown, breakdown_keys

PlacesOn = Literal["period_end", "settlement_date"]


def build_report(
    facts: Iterable[SettledFact],
    period_start: date,
    period_end: date,
    *,
    by: str = "category",
    geography: Geography = AS_RECORDED,
    places_on: PlacesOn = "period_end",
    as_of: datetime | None = None,
    qualification: Iterable[QualificationFact] = (),
    definitions: str = DEFINITIONS_VERSION,
) -> WaitingTimeReport:
    """``places_on``: a breakdown by municipality or county names each settlement's place in
    the structure in force at the end of the period (the default: a reform inside the period
    is reported in the new structure) or on its settlement date."""
    facts = in_period(facts, period_start, period_end)
    if by == "category":
        report = waiting_time_report(facts, period_start, period_end)
    else:
        keys = breakdown_keys(
            geography,
            day_of=(lambda f: period_end)
            if places_on == "period_end"
            else (lambda f: f.settled_on),
        )
        groups = breakdown(facts, keys[by], by_place=by in PLACES)
        report = WaitingTimeReport(period_start=period_start, period_end=period_end, groups=groups)
    return report.model_copy(
        update={
            "by": by,
            "as_of": as_of,
            "steering": steering_figures(
                facts, qualification, period_start, period_end, definitions
            ),
            "waited_over_12_months": waited_longer_than(facts, 12),
        }
    )
