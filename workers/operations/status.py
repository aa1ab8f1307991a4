"""``bosetting status``: is every part alive, is every event moving, are cases on time — in
one table an operator reads in ten seconds. Each check says OK, WARN or DOWN and why."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from temporalio.client import Client

from schemas.qualification import workflow_label
from workers.figures.queries import ProjectionStatus, projection_status
from workers.operations.heartbeat import STALE_AFTER_S
from workers.platform import db
from workers.platform.kafka import TopicEnd, client_security, topic_end
from workers.platform.register import EventLogRow, FailingActivity, Heartbeat
from workers.platform.settings import Settings
from workers.projection.feed import for_the_topic
from workers.projection.store import ConsumerPosition, FeedEvent, StreamProgress

COMPONENTS = ("case-worker", "projection", "api")
SETTLE_S = 30.0
"""How long an event may take from being published to being applied before it counts as lost."""
RECENT_S = 30.0
"""How long an instance that died without a clean stop stays news."""
FAILING_WITHIN = timedelta(minutes=15)
"""An activity whose last failed attempt is older than this is no longer failing."""
LAGGING = 1000
BEHIND_S = 60.0
"""Records behind, or the age of the oldest unapplied one, at which a consumer group is news."""
NAMED = 3
"""How many workflows a check names before it only counts."""
Verdict = Literal["OK", "WARN", "DOWN"]


class Check(BaseModel):
    name: str
    verdict: Verdict
    detail: str
    value: float | None = None
    """The check's number, for the monitor's gauges: instances alive, records behind, …"""
    seconds: float | None = None
    """How far behind in time, where that has a meaning (a consumer group's oldest record
    not yet applied), for the monitor's ``bosetting_check_seconds``."""


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


@dataclass(frozen=True)
class Travel:
    """What is known of the way from the log to the projection, to tell why events are
    missing: the broker may be away, the projection down, or the topic may have lost them."""

    broker_up: bool = True
    projection_alive: bool = True
    behind_on_topic: int = 0
    """Records on the topic the projection has not applied yet (measured against the topic)."""


def _completeness(
    logged: int,
    applied: int,
    last_published: datetime | None,
    now: datetime,
    travel: Travel = Travel(),
) -> Check:
    """Every logged event applied? Each reason for a shortfall gets its own message; only a
    shortfall with the broker up, the projection running and nothing left on the topic
    means the topic lost events (the broker-data-lost runbook)."""
    missing = logged - applied
    name = "projection complete"
    if missing < 0:
        return Check(
            name=name,
            verdict="WARN",
            detail=f"{-missing} more events applied than logged: the event log lost rows? "
            "see docs/runbooks/restore-from-backup.md",
            value=missing,
        )
    settled = last_published is None or _age(last_published, now) > SETTLE_S
    if missing == 0 or not settled:
        return Check(
            name=name,
            verdict="OK",
            detail=f"{applied} of {logged} logged events applied",
            value=missing,
        )
    why = (
        "the broker is unreachable; they wait in the event log"
        if not travel.broker_up
        else "the projection is not running (or keeps restarting: see its log)"
        if not travel.projection_alive
        else f"{travel.behind_on_topic} are on the topic, not yet applied"
        if travel.behind_on_topic
        else "the topic does not hold them: see docs/runbooks/broker-data-lost.md"
    )
    return Check(
        name=name,
        verdict="WARN",
        detail=f"{missing} of {logged} logged events not applied: {why}",
        value=missing,
    )


def _log_completeness(streams_with_gaps: int, streams_beyond_the_log: int) -> Check:
    """The event log's own completeness: every stream numbered from 1 without a gap, and no
    stream of which the topic brought the projection more events than the log holds."""
    problems = []
    if streams_with_gaps:
        problems.append(f"{streams_with_gaps} cases or records have gaps in their sequence")
    if streams_beyond_the_log:
        problems.append(
            f"{streams_beyond_the_log} have events applied from the topic that the log lacks"
        )
    if problems:
        return Check(
            name="event log complete",
            verdict="WARN",
            detail="; ".join(problems)
            + ": rows lost from the register? see docs/runbooks/restore-from-backup.md",
            value=streams_with_gaps + streams_beyond_the_log,
        )
    return Check(
        name="event log complete",
        verdict="OK",
        detail="no gaps, nothing applied that the log lacks",
        value=0,
    )


def _age(moment: datetime, now: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (now - aware).total_seconds()


class Probe:
    """Looks at everything once per call; the monitor keeps one, the CLI makes one."""

    def __init__(self, settings: Settings, *, deep: bool = False) -> None:
        self._settings = settings
        self._deep = deep
        """Also the checks that scan a whole table (the event log's gaps): the CLI's."""
        self._register = db.make_engine(settings.register_url)
        self._projection = db.make_engine(settings.projection_url)
        self._client: Client | None = None

    async def close(self) -> None:
        await self._register.dispose()
        await self._projection.dispose()

    async def status(self) -> Status:
        now = datetime.now(UTC)
        try:
            checks = await _stores(
                self._settings, self._register, self._projection, now, self._deep
            )
        except Exception as exc:  # a database down: say which, and look at Temporal anyway
            checks = [
                Check(
                    name="databases",
                    verdict="DOWN",
                    detail=f"register or projection unreachable ({type(exc).__name__})",
                )
            ]
        checks += await self._cases(now)
        return Status(at=now, checks=checks)

    async def _cases(self, now: datetime) -> list[Check]:
        from workers.platform.temporal import connect

        try:
            if self._client is None:
                self._client = await asyncio.wait_for(connect(self._settings), timeout=5)
            return await _cases(self._client, now - self._settings.monitor_stuck_after)
        except Exception as exc:
            self._client = None
            return [
                Check(name="temporal", verdict="DOWN", detail=f"unreachable ({type(exc).__name__})")
            ]


async def gather(settings: Settings) -> Status:
    """Every check once, the deep ones too (``bosetting status``)."""
    probe = Probe(settings, deep=True)
    try:
        return await probe.status()
    finally:
        await probe.close()


async def _streams_with_gaps(session: AsyncSession) -> int:
    """Cases and records whose logged events are not numbered 1..n: a scan of the log's
    (case, sequence) index, so `bosetting status` runs it and the monitor's loop does not."""
    per_stream = (
        select(EventLogRow.case_id)
        .group_by(EventLogRow.case_id)
        .having(func.count() != func.max(EventLogRow.sequence))
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(per_stream)) or 0)


async def _logged_through(session: AsyncSession) -> dict[str, int]:
    """Each stream's last logged position."""
    rows = await session.execute(
        select(EventLogRow.case_id, func.max(EventLogRow.sequence)).group_by(EventLogRow.case_id)
    )
    return {stream: int(last) for stream, last in rows}


async def _streams_beyond(session: AsyncSession, logged_through: dict[str, int]) -> int:
    """Streams the projection applied further than the event log goes: the topic knew
    events the system of record has lost."""
    rows = await session.execute(select(StreamProgress.stream_id, StreamProgress.applied_through))
    return sum(1 for stream, through in rows if through > logged_through.get(stream, 0))


async def _stores(
    settings: Settings,
    register: AsyncEngine,
    projection: AsyncEngine,
    now: datetime,
    deep: bool = False,
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
        gapped = await _streams_with_gaps(session) if deep else None
        logged_through = await _logged_through(session) if deep else {}
        failing = (
            await session.scalars(
                select(FailingActivity)
                .where(FailingActivity.last_failed_at >= now - FAILING_WITHIN)
                .order_by(FailingActivity.first_failed_at)
            )
        ).all()
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
            select(func.count()).select_from(FeedEvent).where(for_the_topic())
        )
        stored = (
            await session.execute(
                select(
                    ConsumerPosition.consumer,
                    ConsumerPosition.partition,
                    ConsumerPosition.next_offset,
                ).where(ConsumerPosition.topic == settings.kafka_topic)
            )
        ).all()
    groups = {
        group: {p: offset for g, p, offset in stored if g == group}
        for group in (settings.projection_group_id, settings.feed_group_id)
    }
    ends = await _ends(settings, groups, checks)
    consumers = {}
    for group, positions in groups.items():
        end = ends[group] if ends is not None else None
        consumers[group] = _consumer(group, positions, end, status, now)
        checks.append(consumers[group])
    projection_alive = next(c for c in checks if c.name == "projection").verdict == "OK"
    travel = Travel(
        broker_up=ends is not None,
        projection_alive=projection_alive,
        behind_on_topic=int(consumers[settings.projection_group_id].value or 0),
    )
    checks.append(_completeness(int(logged), status.applied_events, last_published, now, travel))
    if gapped is not None:
        async with db.sessionmaker(projection)() as session:
            beyond = await _streams_beyond(session, logged_through)
        checks.append(_log_completeness(gapped, beyond))
    checks.append(_failing_activities(failing))
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


async def _ends(
    settings: Settings, groups: dict[str, dict[int, int]], checks: list[Check]
) -> dict[str, TopicEnd] | None:
    """Where the case topic ends, read now from each group's positions: a stopped consumer's
    lag still grows. None (and a DOWN check) when the broker does not answer."""
    ends = {}
    try:
        for group, positions in groups.items():
            ends[group] = await topic_end(
                settings.kafka_bootstrap_servers,
                settings.kafka_topic,
                positions,
                security=client_security(settings),
            )
    except Exception as exc:
        checks.append(
            Check(name="broker", verdict="DOWN", detail=f"unreachable ({type(exc).__name__})")
        )
        return None
    marks = next(iter(ends.values())).high_water if ends else {}
    checks.append(
        Check(
            name="broker",
            verdict="OK",
            detail=f"{settings.kafka_topic}: {len(marks)} partitions, {sum(marks.values())} "
            "records",
            value=len(marks),
        )
    )
    return ends


def _consumer(
    group: str,
    positions: dict[int, int],
    end: TopicEnd | None,
    status: ProjectionStatus,
    now: datetime,
) -> Check:
    """A consumer group's lag against the topic's end measured now (else as it last stored
    it), in records and in seconds: the age of the oldest record it has not applied."""
    newest = status.last_batch_at.get(group)
    since = f", last batch {_age(newest, now):.0f} s ago" if newest else ", nothing read yet"
    name = f"consumer {group}"
    if end is None:
        lag = status.lag.get(group, 0)
        detail = f"{lag} records behind as last stored (broker unreachable){since}"
        return Check(name=name, verdict="WARN", detail=detail, value=lag)
    marks = end.high_water
    beyond = sorted(p for p, offset in positions.items() if p in marks and offset > marks[p])
    if beyond:
        return Check(
            name=name,
            verdict="WARN",
            detail=f"read past the end of partitions {beyond}: the broker lost its data? "
            "see docs/runbooks/broker-data-lost.md",
            value=len(beyond),
        )
    lag = sum(max(mark - positions.get(p, 0), 0) for p, mark in marks.items())
    unread = [ms for p, ms in end.first_unread_ms.items() if marks.get(p, 0) > positions.get(p, 0)]
    behind_s = max(now.timestamp() - min(unread) / 1000, 0.0) if unread else 0.0
    late = f" (the oldest written {behind_s:.0f} s ago)" if lag else ""
    return Check(
        name=name,
        verdict="OK" if lag < LAGGING and behind_s < BEHIND_S else "WARN",
        detail=f"{lag} records behind{late}{since}",
        value=lag,
        seconds=behind_s,
    )


def _failing_activities(rows: Sequence[FailingActivity]) -> Check:
    """Activities whose latest attempt failed with an error Temporal retries."""
    if not rows:
        return Check(name="activities", verdict="OK", detail="none failing", value=0)
    named = ", ".join(
        f"{workflow_label(r.workflow_id)} {r.activity_type} (attempt {r.attempt}, {r.error_type})"
        for r in rows[:NAMED]
    )
    more = f" and {len(rows) - NAMED} more" if len(rows) > NAMED else ""
    return Check(
        name="activities", verdict="WARN", detail=f"failing: {named}{more}", value=len(rows)
    )


async def _named(client: Client, query: str, count: int) -> str:
    ids = [workflow_label(w.id) async for w in client.list_workflows(query, limit=NAMED)]
    return ", ".join(ids) + (f" and {count - len(ids)} more" if count > len(ids) else "")


async def _cases(client: Client, stuck_before: datetime) -> list[Check]:
    """From Temporal's visibility store: workflows whose tasks keep failing (the server marks
    them with TemporalReportedProblems), cases that stopped moving, the settlement targets."""
    open_ = "ExecutionStatus='Running'"
    running = f"WorkflowType='SettlementCaseWorkflow' AND {open_}"
    problems = f"{open_} AND TemporalReportedProblems IS NOT NULL"
    stuck = f"{running} AND LastStepAt < '{stuck_before.isoformat()}'"
    breached = await client.count_workflows(f"{running} AND DeadlineState='breached'")
    approaching = await client.count_workflows(f"{running} AND DeadlineState='approaching'")
    total = await client.count_workflows(running)
    failing = (await client.count_workflows(problems)).count
    idle = (await client.count_workflows(stuck)).count
    return [
        Check(
            name="workflow tasks",
            verdict="WARN" if failing else "OK",
            detail=f"failing: {await _named(client, problems, failing)}"
            if failing
            else "none failing",
            value=failing,
        ),
        Check(
            name="stuck cases",
            verdict="WARN" if idle else "OK",
            detail=f"no step since {stuck_before:%Y-%m-%d %H:%M} UTC: "
            f"{await _named(client, stuck, idle)}"
            if idle
            else f"every open case took a step since {stuck_before:%Y-%m-%d %H:%M} UTC",
            value=idle,
        ),
        Check(name="temporal", verdict="OK", detail=f"{total.count} open cases", value=total.count),
        Check(
            name="settlement targets",
            verdict="OK",  # business news, not a fault: shown, never fails the status
            detail=f"{breached.count} past target, {approaching.count} approaching",
            value=breached.count,
        ),
    ]
