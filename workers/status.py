"""``bosetting status``: is every part alive, is every event moving, are cases on time — in
one table an operator reads in ten seconds. Each check says OK, WARN or DOWN and why."""

import asyncio
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from activities.event_log import EventLogRow

from . import db
from .feed import FeedEvent
from .heartbeat import STALE_AFTER_S, Heartbeat
from .projection.queries import projection_status
from .settings import Settings

COMPONENTS = ("case-worker", "projection", "api")
SETTLE_S = 30.0
"""How long an event may take from being published to being applied before it counts as lost."""
RECENT_S = 30.0
"""How long an instance that died without a clean stop stays news."""
Verdict = Literal["OK", "WARN", "DOWN"]


class Check(BaseModel):
    name: str
    verdict: Verdict
    detail: str
    value: float | None = None
    """The check's number, for the monitor's gauges: instances alive, records behind, …"""


class Status(BaseModel):
    at: datetime
    checks: list[Check]

    @property
    def healthy(self) -> bool:
        return all(c.verdict == "OK" for c in self.checks)


def _liveness(component: str, beats: list[Heartbeat], now: datetime) -> Check:
    """DOWN with no live instance; WARN while an instance that stopped beating without saying
    goodbye (a crash; a clean stop deletes its row) is recent news; else OK."""
    alive = [b for b in beats if _age(b.seen_at, now) <= STALE_AFTER_S]
    died = [b for b in beats if STALE_AFTER_S < _age(b.seen_at, now) <= RECENT_S]
    pids = ", ".join(str(b.pid) for b in alive)
    if not alive:
        if not beats:
            return Check(name=component, verdict="DOWN", detail="not running", value=0)
        silent = min(_age(b.seen_at, now) for b in beats)
        return Check(
            name=component, verdict="DOWN", detail=f"no heartbeat for {silent:.0f} s", value=0
        )
    if died:
        gone = ", ".join(f"pid {b.pid} {_age(b.seen_at, now):.0f} s ago" for b in died)
        return Check(
            name=component,
            verdict="WARN",
            detail=f"restarted ({gone}); alive: pid {pids}",
            value=len(alive),
        )
    return Check(name=component, verdict="OK", detail=f"alive: pid {pids}", value=len(alive))


def _completeness(
    logged: int, applied: int, last_published: datetime | None, now: datetime
) -> Check:
    """Every logged event applied? A shortfall that outlasts the time events take to travel
    means the topic lost some (a broker that lost its data): the broker-data-lost runbook."""
    missing = logged - applied
    settled = last_published is None or _age(last_published, now) > SETTLE_S
    if missing > 0 and settled:
        return Check(
            name="projection complete",
            verdict="WARN",
            detail=f"{missing} of {logged} logged events never arrived: "
            "see docs/runbooks/broker-data-lost.md",
            value=missing,
        )
    return Check(
        name="projection complete",
        verdict="OK",
        detail=f"{applied} of {logged} logged events applied",
        value=max(missing, 0),
    )


def _age(moment: datetime, now: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (now - aware).total_seconds()


class Probe:
    """Looks at everything once per call; the monitor keeps one, the CLI makes one."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._register = db.make_engine(settings.register_url)
        self._projection = db.make_engine(settings.projection_url)
        self._client: Client | None = None

    async def close(self) -> None:
        await self._register.dispose()
        await self._projection.dispose()

    async def status(self) -> Status:
        now = datetime.now(UTC)
        checks = await _stores(self._settings, self._register, self._projection, now)
        checks += await self._cases()
        return Status(at=now, checks=checks)

    async def _cases(self) -> list[Check]:
        from .temporal import connect

        try:
            if self._client is None:
                self._client = await asyncio.wait_for(connect(self._settings), timeout=5)
            return await _cases(self._client)
        except Exception as exc:
            self._client = None
            return [
                Check(name="temporal", verdict="DOWN", detail=f"unreachable ({type(exc).__name__})")
            ]


async def gather(settings: Settings) -> Status:
    probe = Probe(settings)
    try:
        return await probe.status()
    finally:
        await probe.close()


async def _stores(
    settings: Settings, register: AsyncEngine, projection: AsyncEngine, now: datetime
) -> list[Check]:
    checks: list[Check] = []
    async with db.sessionmaker(register)() as session:
        beats = (await session.scalars(select(Heartbeat))).all()
        unpublished, oldest = (
            await session.execute(
                select(func.count(), func.min(EventLogRow.recorded_at)).where(
                    EventLogRow.published_at.is_(None)
                )
            )
        ).one()
        logged, last_published = (
            await session.execute(select(func.count(), func.max(EventLogRow.published_at)))
        ).one()
    for component in COMPONENTS:
        checks.append(_liveness(component, [b for b in beats if b.component == component], now))
    waiting = _age(oldest, now) if oldest is not None else 0.0
    checks.append(
        Check(
            name="event log → Kafka",
            verdict="OK" if waiting < 30 else "WARN",
            detail=f"{unpublished} unpublished"
            + (f", oldest {waiting:.0f} s" if unpublished else ""),
            value=unpublished,
        )
    )
    status = await projection_status(db.sessionmaker(projection))
    async with db.sessionmaker(projection)() as session:
        feed_backlog = await session.scalar(
            select(func.count()).select_from(FeedEvent).where(FeedEvent.published_at.is_(None))
        )
    for group in (settings.projection_group_id, settings.feed_group_id):
        lag = status.lag.get(group, 0)
        newest = status.last_batch_at.get(group)
        since = f", last batch {_age(newest, now):.0f} s ago" if newest else ", nothing read yet"
        checks.append(
            Check(
                name=f"consumer {group}",
                verdict="OK" if lag < 1000 else "WARN",
                detail=f"{lag} records behind{since}",
                value=lag,
            )
        )
    checks.append(_completeness(int(logged), status.applied_events, last_published, now))
    checks.append(
        Check(
            name="dead letters",
            verdict="OK" if not status.dead_letters else "WARN",
            detail=f"{status.dead_letters} unreadable records",
            value=status.dead_letters,
        )
    )
    checks.append(
        Check(
            name="feed → Kafka",
            verdict="OK" if (feed_backlog or 0) < 1000 else "WARN",
            detail=f"{feed_backlog} unpublished",
            value=feed_backlog,
        )
    )
    return checks


async def _cases(client: Client) -> list[Check]:
    """The settlement targets, from Temporal's visibility store."""
    running = "WorkflowType='SettlementCaseWorkflow' AND ExecutionStatus='Running'"
    breached = await client.count_workflows(f"{running} AND DeadlineState='breached'")
    approaching = await client.count_workflows(f"{running} AND DeadlineState='approaching'")
    total = await client.count_workflows(running)
    return [
        Check(name="temporal", verdict="OK", detail=f"{total.count} open cases", value=total.count),
        Check(
            name="settlement targets",
            verdict="OK",  # business news, not a fault: shown, never fails the status
            detail=f"{breached.count} past target, {approaching.count} approaching",
            value=breached.count,
        ),
    ]
