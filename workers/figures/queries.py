"""Reads of the projection: figures for a period, and how far the projection has got."""

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.calendar import add_months
from schemas.enums import CaseType
from workers.figures.facts import load_qualification_facts, load_settled_facts
from workers.figures.metrics import (
    DEFINITIONS_VERSION,
    StockReport,
    WaitingTimeReport,
)
from workers.figures.report import PlacesOn, build_report
from workers.figures.slices import AS_RECORDED, Geography
from workers.projection.store import (
    ConsumerPosition,
    DeadLetter,
    PersonWaitVersion,
    SettledPersonVersion,
    StreamProgress,
    known_at,
)


async def waiting_time(
    sessions: async_sessionmaker[AsyncSession],
    period_start: date,
    period_end: date,
    *,
    by: str = "category",
    as_of: datetime | None = None,
    geography: Geography = AS_RECORDED,
    places_on: PlacesOn = "period_end",
    definitions: str = DEFINITIONS_VERSION,
) -> WaitingTimeReport:
    """The figures of persons settled in the period, as known now or as of a past moment,
    by one version of the definitions."""
    async with sessions() as session:
        facts = await load_settled_facts(session, period_start, period_end, as_of)
        qualification = await load_qualification_facts(session, as_of)
    return build_report(
        facts,
        period_start,
        period_end,
        by=by,
        as_of=as_of,
        geography=geography,
        places_on=places_on,
        qualification=qualification,
        definitions=definitions,
    )


async def waiting_on(
    sessions: async_sessionmaker[AsyncSession], on: date, as_of: datetime | None = None
) -> StockReport:
    """The stock at the end of ``on``, as known now or as of a past moment. Protected-identity
    persons count: these are totals."""
    w = PersonWaitVersion
    known = known_at(w, as_of)
    still_waiting = (
        (w.permit_date <= on)
        & (w.settled_on.is_(None) | (w.settled_on > on))
        & (w.left_on.is_(None) | (w.left_on > on))
    )
    async with sessions() as session:
        permits = (
            await session.scalars(
                select(w.permit_date).where(
                    known,
                    still_waiting,
                    w.case_type == CaseType.RECEPTION.value,
                    w.ready_on <= on,
                )
            )
        ).all()
        abroad = await session.scalar(
            select(func.count())
            .select_from(w)
            .where(
                known,
                still_waiting,
                w.case_type == CaseType.RESETTLEMENT.value,
                w.arrived_on.is_(None) | (w.arrived_on > on),
            )
        )
    days = [(on - t0).days for t0 in permits]
    by_wait = dict.fromkeys(WAIT_BANDS, 0)
    for t0 in permits:
        by_wait[_band(t0, on)] += 1
    return StockReport(
        on=on,
        as_of=as_of,
        waiting_in_reception=len(days),
        median_wait_days=Fraction(median(days)) if days else None,
        waiting_abroad=int(abroad or 0),
        by_wait=by_wait,
    )


WAIT_BANDS = ("up_to_3_months", "3_to_6_months", "6_to_12_months", "over_12_months")


def _band(t0: date, on: date) -> str:
    for months, band in zip((3, 6, 12), WAIT_BANDS, strict=False):
        if on <= add_months(t0, months):
            return band
    return WAIT_BANDS[-1]


@dataclass(frozen=True)
class ProjectionStatus:
    applied_events: int
    settled_persons: int
    dead_letters: int
    lag: dict[str, int]
    """Per consumer group (the projection's, the municipality feed's): records behind the
    high-water marks seen in its last fetch of each partition."""
    last_batch_at: dict[str, datetime]
    """Per consumer group: when it last committed a batch."""


async def projection_status(sessions: async_sessionmaker[AsyncSession]) -> ProjectionStatus:
    async with sessions() as session:
        through = await session.scalar(
            select(func.coalesce(func.sum(StreamProgress.applied_through), 0))
        )
        gaps = await session.scalars(
            select(StreamProgress.ahead).where(StreamProgress.ahead != "")
        )  # positions applied after a gap: rare, and few per stream
        applied = int(through or 0) + sum(len(a.split(",")) for a in gaps)
        settled = await session.scalar(
            select(func.count())
            .select_from(SettledPersonVersion)
            .where(SettledPersonVersion.superseded_at.is_(None))
        )
        dead = await session.scalar(select(func.count()).select_from(DeadLetter))
        groups = (
            await session.execute(
                select(
                    ConsumerPosition.consumer,
                    func.sum(ConsumerPosition.high_water - ConsumerPosition.next_offset),
                    func.max(ConsumerPosition.updated_at),
                ).group_by(ConsumerPosition.consumer)
            )
        ).all()
    return ProjectionStatus(
        applied_events=int(applied or 0),
        settled_persons=int(settled or 0),
        dead_letters=int(dead or 0),
        lag={group: max(int(behind or 0), 0) for group, behind, _ in groups},
        last_batch_at={group: at for group, _, at in groups},
    )
