"""``bosetting monitor``: the status checks, every few seconds, as Prometheus metrics, a health
endpoint and alert events.

- ``GET /metrics``: ``bosetting_check_ok{check}`` (1 when OK), ``bosetting_check_value``
  (the check's number: instances alive, records behind, unpublished rows, cases past target)
  and ``bosetting_check_seconds`` (a consumer group's seconds behind); and the figures and the
  read model's progress (``bosetting_figure_*``, ``bosetting_projection_*``), computed here
  once rather than in every projection replica;
- ``GET /health``: 200 when every check is OK, else 503 with the checks that are not;
- alert events: when a check leaves OK (raised) and when it comes back (cleared), each with
  the check, its verdict and why: CloudEvents on the alerts topic
  (``workers/operations/alerts.py``) and ``alert`` / ``alert cleared`` log lines.
"""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Literal

import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workers.operations.alerts import Alert, AlertSender, KafkaAlerts
from workers.operations.exporter import FiguresExporter
from workers.operations.status import Check, Probe, Status
from workers.platform import db
from workers.platform.kafka import sink_connector
from workers.platform.settings import Settings

log = structlog.get_logger("monitor")


class Monitor:
    def __init__(
        self, probe: Probe, registry: CollectorRegistry, alerts: AlertSender | None = None
    ) -> None:
        self._probe = probe
        self._alerts = alerts
        self._ok = Gauge(
            "bosetting_check_ok", "1 when the check is OK", ["check"], registry=registry
        )
        self._value = Gauge(
            "bosetting_check_value", "The check's number", ["check"], registry=registry
        )
        self._seconds = Gauge(
            "bosetting_check_seconds",
            "How far behind in time: a consumer group's oldest record not yet applied",
            ["check"],
            registry=registry,
        )
        self.last: Status | None = None

    async def look(self) -> Status:
        status = await self._probe.status()
        before = {c.name: c.verdict for c in self.last.checks} if self.last else {}
        alerts = []
        for check in status.checks:
            self._ok.labels(check.name).set(1 if check.verdict == "OK" else 0)
            if check.value is not None:
                self._value.labels(check.name).set(check.value)
            if check.seconds is not None:
                self._seconds.labels(check.name).set(check.seconds)
            was = before.get(check.name, "OK")
            if check.verdict != "OK" and was != check.verdict:
                log.warning("alert", check=check.name, verdict=check.verdict, detail=check.detail)
                alerts.append(_alert("raised", check, status))
            elif check.verdict == "OK" and was != "OK":
                log.info("alert cleared", check=check.name, detail=check.detail)
                alerts.append(_alert("cleared", check, status))
        self.last = status
        if self._alerts is not None:
            await self._alerts.send(alerts)
        return status

    async def run(self, stop: asyncio.Event, interval_s: float) -> None:
        while not stop.is_set():
            try:
                await self.look()
            except Exception as exc:  # a failed look is itself news, and the loop goes on
                log.warning("monitor look failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)


def _alert(state: Literal["raised", "cleared"], check: Check, status: Status) -> Alert:
    return Alert(
        state=state,
        check=check.name,
        verdict=check.verdict,
        detail=check.detail,
        value=check.value,
        at=status.at,
    )


def monitor_app(monitor: Monitor, registry: CollectorRegistry) -> Starlette:
    async def health(request: Request) -> JSONResponse:
        status = monitor.last
        if status is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        failing = [c.model_dump() for c in status.checks if c.verdict != "OK"]
        body = {
            "status": "ok" if not failing else "degraded",
            "at": status.at.isoformat(),
            "failing": failing,
        }
        return JSONResponse(body, status_code=200 if not failing else 503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/metrics", metrics)])


async def run_monitor(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    registry = CollectorRegistry()
    probe = Probe(settings)
    alerts = KafkaAlerts(sink_connector(settings, settings.kafka_alerts_topic))
    monitor = Monitor(probe, registry, alerts)
    # The figures and the read model's progress: once for the system, here, rather than in
    # every projection replica.
    projection = db.make_engine(settings.projection_url)
    figures = FiguresExporter(db.sessionmaker(projection), registry)
    server = uvicorn.Server(
        uvicorn.Config(
            monitor_app(monitor, registry),
            host=settings.metrics_host,
            port=settings.monitor_port,
            log_config=None,
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve(), name="monitor-http")
    looking = asyncio.create_task(monitor.run(stop, settings.monitor_interval_s))
    exporting = asyncio.create_task(
        figures.run(stop, settings.projection_metrics_interval_s), name="figures-exporter"
    )
    while not server.started:
        if serving.done():
            await serving
            return
        await asyncio.sleep(0.05)
    log.info("monitor ready", port=settings.monitor_port)
    if on_ready is not None:
        on_ready()
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    server.should_exit = True
    await asyncio.gather(serving, looking, exporting)
    stopping.cancel()
    await alerts.close()
    await probe.close()
    await projection.dispose()
