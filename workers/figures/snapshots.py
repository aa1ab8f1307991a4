"""Stored snapshots of official reports. A snapshot keeps the report as printed, the
versions of the definitions that made it, and the projection's stored positions at the time;
``verify`` recomputes the report as known at the snapshot's moment (the read model is
bitemporal) and says whether it is the same."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.figures.metrics import DEFINITIONS_VERSION, METRIC_VERSION, WaitingTimeReport
from workers.figures.queries import waiting_time
from workers.figures.report import PlacesOn
from workers.figures.slices import Geography
from workers.projection.store import ConsumerPosition, ReportSnapshot


class SnapshotError(ValueError):
    pass


@dataclass(frozen=True)
class Verification:
    name: str
    same: bool
    differences: list[str]


async def take(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    period_start: date,
    period_end: date,
    by: str,
    render: Callable[[Any], dict[str, Any]],
    geography: Geography,
    consumer: str,
    *,
    places_on: PlacesOn = "period_end",
) -> WaitingTimeReport:
    """Compute the report now, store it under ``name`` (a name is never reused), and return
    it: what is printed is what is stored. With it go the positions ``consumer`` (the
    figures' consumer group) had stored, per topic and partition."""
    now = datetime.now(UTC)
    report = await waiting_time(
        sessions,
        period_start,
        period_end,
        by=by,
        as_of=now,
        geography=geography,
        places_on=places_on,
    )
    document = render(report)
    async with sessions.begin() as session:
        if await session.get(ReportSnapshot, name) is not None:
            raise SnapshotError(f"snapshot: {name!r} exists already; names are never reused")
        positions: dict[str, dict[int, int]] = {}
        for p in await session.scalars(
            select(ConsumerPosition).where(ConsumerPosition.consumer == consumer)
        ):
            positions.setdefault(p.topic, {})[p.partition] = p.next_offset
        session.add(
            ReportSnapshot(
                name=name,
                created_at=now,
                period_start=period_start,
                period_end=period_end,
                by=by,
                versions=json.dumps(
                    {"figures": METRIC_VERSION, "definitions": DEFINITIONS_VERSION}
                ),
                positions=json.dumps(positions, sort_keys=True),
                report=json.dumps(document, sort_keys=True),
            )
        )
    return report


async def listing(sessions: async_sessionmaker[AsyncSession]) -> list[ReportSnapshot]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(select(ReportSnapshot).order_by(ReportSnapshot.created_at))
            ).all()
        )


async def verify(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    render: Callable[[Any], dict[str, Any]],
    geography: Geography,
    *,
    places_on: PlacesOn = "period_end",
) -> Verification:
    async with sessions() as session:
        snapshot = await session.get(ReportSnapshot, name)
    if snapshot is None:
        raise SnapshotError(f"snapshot: no snapshot named {name!r}")
    created = snapshot.created_at
    again = render(
        await waiting_time(
            sessions,
            snapshot.period_start,
            snapshot.period_end,
            by=snapshot.by,
            as_of=created,
            geography=geography,
            places_on=places_on,
        )
    )
    stored = json.loads(snapshot.report)
    again = json.loads(json.dumps(again, sort_keys=True))
    differences = [
        key for key in sorted(set(stored) | set(again)) if stored.get(key) != again.get(key)
    ]
    return Verification(name=name, same=not differences, differences=differences)
