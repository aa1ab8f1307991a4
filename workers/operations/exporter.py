"""The figures exporter: how far the read model has got and the current figures (the steering
parameters of the current calendar year, who is waiting today) as Prometheus gauges,
refreshed on an interval from the database. They describe the whole read model, so one
process computes them: the monitor, however many projection replicas run. (Each projection
process's own work is counted by ``workers.projection.instruments``.)"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime

import structlog
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.figures.queries import projection_status, waiting_on, waiting_time

log = structlog.get_logger("projection")


class FiguresExporter:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: CollectorRegistry,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._sessions = sessions
        self._today = today
        g = "bosetting_projection_"
        self.applied = Gauge(
            f"{g}applied_events", "Events applied to the read model.", registry=registry
        )
        self.dead = Gauge(
            f"{g}dead_letters", "Records the projection could not read.", registry=registry
        )
        f = "bosetting_figure_"
        self.share = Gauge(
            f"{f}share",
            "A figure's share this calendar year.",
            ["id", "version"],
            registry=registry,
        )
        self.numerator = Gauge(
            f"{f}numerator", "A figure's numerator this calendar year.", ["id"], registry=registry
        )
        self.denominator = Gauge(
            f"{f}denominator",
            "A figure's denominator this calendar year.",
            ["id"],
            registry=registry,
        )
        self.settled = Gauge(
            f"{f}settled_persons", "Persons settled this calendar year.", registry=registry
        )
        self.waiting = Gauge(
            f"{f}waiting_in_reception",
            "K9: settlement-ready persons in reception today.",
            registry=registry,
        )
        self.median_wait = Gauge(
            f"{f}waiting_median_months",
            "K8: their median wait since the permit.",
            registry=registry,
        )
        self.abroad = Gauge(
            f"{f}waiting_abroad",
            "Resettlement refugees with an entry permit, abroad.",
            registry=registry,
        )

    async def refresh(self) -> None:
        today = self._today()
        status = await projection_status(self._sessions)
        self.applied.set(status.applied_events)
        self.dead.set(status.dead_letters)
        report = await waiting_time(
            self._sessions, date(today.year, 1, 1), date(today.year, 12, 31)
        )
        self.settled.set(report.group("total").settled)
        for m in report.steering:
            self.numerator.labels(m.id).set(m.numerator)
            self.denominator.labels(m.id).set(m.denominator)
            if m.share is not None:
                self.share.labels(m.id, m.version).set(m.share)
        stock = await waiting_on(self._sessions, today)
        self.waiting.set(stock.waiting_in_reception)
        self.abroad.set(stock.waiting_abroad)
        if stock.median_wait_months is not None:
            self.median_wait.set(stock.median_wait_months)

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:  # the gauges go stale; the projection goes on
                log.warning("figures refresh failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
