"""Reads of the projection: figures for a period, and how far the projection has got."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .apply import load_settled_facts
from .metrics import WaitingTimeReport
from .report import build_report
from .store import AppliedEvent, ConsumerPosition, DeadLetter, SettledPersonVersion


async def waiting_time(
    sessions: async_sessionmaker[AsyncSession],
    period_start: date,
    period_end: date,
    *,
    by: str = "category",
    as_of: datetime | None = None,
    county_of: Callable[[str, date], str] = lambda number, day: "unknown",
) -> WaitingTimeReport:
    """The figures of persons settled in the period, as known now or as of a past moment."""
    async with sessions() as session:
        facts = await load_settled_facts(session, period_start, period_end, as_of)
    return build_report(facts, period_start, period_end, by=by, as_of=as_of, county_of=county_of)


@dataclass(frozen=True)
class ProjectionStatus:
    applied_events: int
    settled_persons: int
    dead_letters: int
    lag: int
    """Records behind the high-water marks seen in the last fetch of each partition."""


async def projection_status(sessions: async_sessionmaker[AsyncSession]) -> ProjectionStatus:
    async with sessions() as session:
        applied = await session.scalar(select(func.count()).select_from(AppliedEvent))
        settled = await session.scalar(
            select(func.count())
            .select_from(SettledPersonVersion)
            .where(SettledPersonVersion.superseded_at.is_(None))
        )
        dead = await session.scalar(select(func.count()).select_from(DeadLetter))
        lag = await session.scalar(
            select(
                func.coalesce(
                    func.sum(ConsumerPosition.high_water - ConsumerPosition.next_offset), 0
                )
            )
        )
    return ProjectionStatus(int(applied or 0), int(settled or 0), int(dead or 0), int(lag or 0))
