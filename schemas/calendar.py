"""Calendar arithmetic shared by the workflows (deadlines) and the projection (figures), so
that "within N months" means the same day in both."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day of month ``months`` later, clamped to the month's last day:
    31 August + 6 months = 28 February (29 in a leap year)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
