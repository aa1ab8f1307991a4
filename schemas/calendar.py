"""Calendar arithmetic shared by the workflows (deadlines) and the projection (figures), so
that "within N months" means the same day in both."""

import calendar
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field


def add_months(day: date, months: int) -> date:
    """The same day of month ``months`` later, clamped to the month's last day:
    31 August + 6 months = 28 February (29 in a leap year)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
BusinessDate = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
"""A date something happened or is due: within 1900–2199, so that no arithmetic on it (a
deadline years on, a conversion) can leave the calendar, and one record dated 9999 can
neither wedge a workflow nor break a year's figures. Whether it may lie in the future is
each command's own rule."""


def _within_the_calendar(moment: datetime) -> datetime:
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a moment within 1900–2199") from None
    if not EARLIEST <= in_utc.date() <= LATEST:
        raise ValueError("must be a moment within 1900–2199")
    return moment


RecordedMoment = Annotated[AwareDatetime, AfterValidator(_within_the_calendar)]
"""When the system learned of something, with its offset, convertible to UTC."""
