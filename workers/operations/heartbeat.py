"""Liveness of the long-running processes: each writes a heartbeat row to the register every
few seconds and deletes it on a clean stop. ``bosetting status`` calls a component down when
none of its instances has beaten lately, and warns for a while after one stopped beating
without a clean stop (a crash). A database row rather than a port to probe, so that it works
the same for one process on a laptop and for many replicas behind a cluster's network."""

import asyncio
import contextlib
import os
import socket
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.platform.register import Heartbeat

log = structlog.get_logger("heartbeat")
INTERVAL_S = 2.0
STALE_AFTER_S = 3 * INTERVAL_S
"""A component is down when its newest heartbeat is older than this."""


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def beat_until(
    register: async_sessionmaker[AsyncSession],
    component: str,
    stop: asyncio.Event,
    interval_s: float = INTERVAL_S,
) -> None:
    """Beat every ``interval_s`` until ``stop``; a failed beat is logged and retried (the
    process may well be healthy while its database blinks)."""
    instance, started = instance_name(), datetime.now(UTC)
    try:  # instances gone for a day are history, not news
        async with register.begin() as session:
            await session.execute(
                delete(Heartbeat).where(
                    Heartbeat.component == component,
                    Heartbeat.seen_at < started - timedelta(days=1),
                )
            )
    except Exception as exc:
        log.warning("heartbeat clean-up failed", component=component, error=type(exc).__name__)
    while not stop.is_set():
        try:
            await _beat(register, component, instance, started)
        except Exception as exc:
            log.warning("heartbeat failed", component=component, error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
    try:  # a clean stop is not a failure: say goodbye
        async with register.begin() as session:
            await session.execute(
                delete(Heartbeat).where(
                    Heartbeat.component == component, Heartbeat.instance == instance
                )
            )
    except Exception as exc:
        log.warning("heartbeat goodbye failed", component=component, error=type(exc).__name__)


async def _beat(
    register: async_sessionmaker[AsyncSession], component: str, instance: str, started: datetime
) -> None:
    now = datetime.now(UTC)
    async with register.begin() as session:
        changed = await session.execute(
            update(Heartbeat)
            .where(Heartbeat.component == component, Heartbeat.instance == instance)
            .values(seen_at=now)
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            session.add(
                Heartbeat(
                    component=component,
                    instance=instance,
                    pid=os.getpid(),
                    started_at=started,
                    seen_at=now,
                )
            )
