"""The settlement target's states, judged one way by the case workflow (its timers and its
verdict at settlement) and by the case register's queues (against the day they are read)."""

from datetime import date, timedelta

from schemas.enums import DeadlineState

WARNING_LEAD_DAYS = 30
"""How long before the settlement target the warning comes."""


def open_target_state(target: date, today: date) -> DeadlineState:
    """An unsettled household's target on ``today``: breached the day after it, approaching
    from WARNING_LEAD_DAYS before it."""
    if today > target:
        return DeadlineState.BREACHED
    if today >= target - timedelta(days=WARNING_LEAD_DAYS):
        return DeadlineState.APPROACHING
    return DeadlineState.ON_TRACK


def settled_verdict(target: date, last_settled_on: date) -> DeadlineState:
    """Judged on business dates: a late registration of a timely settlement is met."""
    return DeadlineState.MET if last_settled_on <= target else DeadlineState.BREACHED
