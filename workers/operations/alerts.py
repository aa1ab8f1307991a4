"""Alert events: when a monitor check leaves OK (raised) and when it comes back (cleared), as
CloudEvents 1.0 on the alerts topic (binary mode, keyed by the check), for a pager, a chat
bridge or an incident tool to consume. They are also logged, so a broker that is itself the
trouble still leaves a trace; unsent alerts are kept (up to a bound) and sent when it returns."""

import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal, Protocol

import structlog
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel

from activities.publisher import EventSink
from schemas.envelope import KafkaRecord
from workers.operations.status import Verdict

log = structlog.get_logger("alerts")
SOURCE = "urn:bosetting:monitor"
TYPE_PREFIX = "no.bosetting.alert."
KEPT = 1000
"""Unsent alerts kept while the broker is away; the oldest go first."""


class Alert(BaseModel):
    """A check changed state. ``detail`` says why, in the check's own words (never personal
    data: checks name workflows, components and counts)."""

    state: Literal["raised", "cleared"]
    check: str
    verdict: Verdict
    detail: str
    value: float | None = None
    at: datetime


def alert_record(alert: Alert) -> KafkaRecord:
    ce = CloudEvent(
        attributes={
            "id": str(uuid.uuid4()),
            "source": SOURCE,
            "type": f"{TYPE_PREFIX}{alert.state}.v1",
            "subject": alert.check,
            "time": alert.at,
            "datacontenttype": "application/json",
        },
        data=alert.model_dump(mode="json"),
    )
    return KafkaRecord.binary(alert.check, ce)


class AlertSender(Protocol):
    async def send(self, alerts: list[Alert]) -> None: ...


class KafkaAlerts:
    """Sends alerts to the topic through an outbox relay's kind of sink, reconnecting (and
    re-provisioning the topic) after a failure."""

    def __init__(self, connect: Callable[[], Awaitable[EventSink]]) -> None:
        self._connect = connect
        self._sink: EventSink | None = None
        self._unsent: deque[Alert] = deque(maxlen=KEPT)

    async def send(self, alerts: list[Alert]) -> None:
        self._unsent.extend(alerts)
        if not self._unsent:
            return
        try:
            if self._sink is None:
                self._sink = await self._connect()
            await self._sink.send_all([alert_record(a) for a in self._unsent])
            self._unsent.clear()
        except Exception as exc:
            log.warning("alerts not published", kept=len(self._unsent), error=type(exc).__name__)
            await self.close()

    async def close(self) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            try:
                await sink.close()
            except Exception as exc:
                log.warning("alert sink close failed", error=type(exc).__name__)
