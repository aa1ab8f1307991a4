"""Periods, days and moments as the figures take them: parsed here, one way, for the CLI and
the API alike.

- A period is a year (``2020``), a quarter (``2020-Q3``), a month (``2020-07``) or the rolling
  twelve months ending with a month (``12m:2020-12``), inclusive of both ends.
- A day is ``YYYY-MM-DD``.
- A moment (``as_of``: the figures as known then) is an ISO 8601 date and time; a time without
  a zone is UTC, and a date alone means the end of that day, UTC — "as of 15 January" includes
  what was recorded on the 15th.

Errors say the rule, never the value; the caller names the field (``--as-of``, ``as_of``)."""

import calendar
import re
from datetime import UTC, date, datetime, time

from schemas.calendar import add_months

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ROLLING = re.compile(r"^12m:(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\S+$")

PERIOD_RULE = (
    "must be a year (2020), quarter (2020-Q3), month (2020-07) or rolling twelve months "
    "(12m:2020-12)"
)
DAY_RULE = "must be a date, YYYY-MM-DD"
MOMENT_RULE = "must be a date (YYYY-MM-DD: the end of that day, UTC) or an ISO 8601 date and time"


class BadValue(ValueError):
    """The text breaks the rule in the message (which never repeats the text)."""


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _month(year: int, month: int) -> tuple[int, int]:
    if not 1 <= month <= 12:
        raise BadValue("the month must be 01 to 12")
    return year, month


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
        year, month = _month(int(m[1]), int(m[2]))
        return date(year, month, 1), _month_end(year, month)
    if m := _ROLLING.match(text):
        year, month = _month(int(m[1]), int(m[2]))
        return add_months(date(year, month, 1), -11), _month_end(year, month)
    raise BadValue(PERIOD_RULE)


def parse_day(text: str) -> date:
    if not _DAY.match(text):
        raise BadValue(DAY_RULE)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadValue(DAY_RULE) from None


def parse_moment(text: str) -> datetime:
    """A moment, always with a zone: a date alone is the end of that day, UTC."""
    if _DAY.match(text):
        return datetime.combine(parse_day(text), time.max, UTC)
    if not _MOMENT.match(text):
        raise BadValue(MOMENT_RULE)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadValue(MOMENT_RULE) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
