"""CloudEvents (binary content mode) for case events on Kafka.

Attributes go to ``ce_*`` headers, the event data is the JSON value, and the key is the
case id so that all of a case's events land, in order, on one partition.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import TypeAdapter, ValidationError

from .events import SCHEMA_VERSION, CaseEvent, EventData

SOURCE = "urn:bosetting:settlement-case"
TYPE_PREFIX = "no.bosetting.case."
_data_adapter: TypeAdapter[EventData] = TypeAdapter(EventData)


class EnvelopeError(ValueError):
    """A record on the topic is not a case event this code understands."""


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    headers: list[tuple[str, bytes]]
    value: bytes


def cloudevent_type(data_type: str, schema_version: int = SCHEMA_VERSION) -> str:
    return f"{TYPE_PREFIX}{data_type}.v{schema_version}"


def to_kafka(event: CaseEvent) -> KafkaRecord:
    data = event.data.model_dump(mode="json")
    ce = CloudEvent(
        attributes={
            "id": str(event.event_id),
            "source": SOURCE,
            "type": cloudevent_type(event.data.type, event.schema_version),
            "subject": event.case_id,
            "time": event.recorded_at,
            "datacontenttype": "application/json",
            "partitionkey": event.case_id,
            "businessdate": event.business_date.isoformat(),
            "sequence": event.sequence,
        },
        data=data,
    )
    message = ce_kafka.to_binary_event(ce)
    return KafkaRecord(
        key=event.case_id.encode(),
        headers=list(message.headers.items()),
        value=message.value,
    )


def from_kafka(
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], value: bytes
) -> CaseEvent:
    """Parse a Kafka record into a case event, or raise EnvelopeError saying why."""
    try:
        message = ce_kafka.KafkaMessage(headers=dict(headers), key=None, value=value)
        ce = ce_kafka.from_binary_event(message)
        attrs: dict[str, Any] = ce.get_attributes()
        ce_type = str(attrs["type"])
        if not ce_type.startswith(TYPE_PREFIX):
            raise EnvelopeError(f"type: {ce_type!r} is not a case event")
        name, _, version = ce_type[len(TYPE_PREFIX) :].rpartition(".v")
        if version != str(SCHEMA_VERSION):
            raise EnvelopeError(f"type: schema version {version!r} is not supported")
        raw = ce.get_data()
        data = json.loads(raw) if isinstance(raw, (bytes, str)) else raw
        if not isinstance(data, dict) or data.get("type") != name:
            raise EnvelopeError("data: type does not match the CloudEvent type")
        recorded_at = attrs["time"]
        if not isinstance(recorded_at, datetime):
            recorded_at = datetime.fromisoformat(str(recorded_at).replace("Z", "+00:00"))
        return CaseEvent(
            event_id=attrs["id"],
            case_id=attrs["subject"],
            sequence=int(attrs["sequence"]),
            business_date=date.fromisoformat(str(attrs["businessdate"])),
            recorded_at=recorded_at,
            schema_version=SCHEMA_VERSION,
            data=_data_adapter.validate_python(data),
        )
    except EnvelopeError:
        raise
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        raise EnvelopeError(f"unreadable case event: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # the cloudevents SDK raises its own exception hierarchy
        raise EnvelopeError(f"unreadable CloudEvent: {type(exc).__name__}: {exc}") from exc
