"""CloudEvents (binary content mode) for case events on Kafka.

Attributes go to ``ce_*`` headers, the event data is the JSON value, and the key is the
case id so that all of a case's events land, in order, on one partition.
"""

from dataclasses import dataclass
from datetime import date, datetime

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import TypeAdapter, ValidationError

from schemas.events import SCHEMA_VERSION, CaseEvent, EventData

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

    @classmethod
    def binary(cls, key: str, event: CloudEvent) -> "KafkaRecord":
        """A CloudEvent in Kafka binary mode: attributes in ce_* headers, data as the value.
        Every topic of ours (case events, the municipality feed, alerts) is written so."""
        message = ce_kafka.to_binary_event(event)
        return cls(key=key.encode(), headers=list(message.headers.items()), value=message.value)


def cloudevent_type(data_type: str, schema_version: int = SCHEMA_VERSION) -> str:
    return f"{TYPE_PREFIX}{data_type}.v{schema_version}"


def to_kafka(event: CaseEvent, traceparent: str | None = None) -> KafkaRecord:
    """``traceparent``: the W3C trace context of the step that recorded the event (CloudEvents'
    distributed tracing extension), so consumers can link their work to it."""
    data = event.data.model_dump(mode="json")
    tracing = {"traceparent": traceparent} if traceparent else {}
    ce = CloudEvent(
        attributes={
            **tracing,
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
    return KafkaRecord.binary(event.case_id, ce)


_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")


def from_kafka(
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], value: bytes
) -> CaseEvent:
    """Parse a Kafka record into a case event, or raise EnvelopeError saying why.

    Reading is the hot path of the projection, so it reads the binary-mode headers directly
    (the CloudEvents Kafka binding: one ``ce_<attribute>`` header per attribute, the data as
    the value) instead of through the SDK, which writes them; tests check the two agree."""
    try:
        attrs = {k: v.decode() for k, v in headers if k.startswith("ce_")}
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"unreadable CloudEvent: header is not UTF-8: {exc}") from exc
    missing = [name for name in _REQUIRED if name not in attrs]
    if missing:
        raise EnvelopeError(f"unreadable CloudEvent: missing {', '.join(missing)}")
    if attrs["ce_specversion"] != "1.0":
        raise EnvelopeError(f"ce_specversion: {attrs['ce_specversion']!r} is not 1.0")
    ce_type = attrs["ce_type"]
    if not ce_type.startswith(TYPE_PREFIX):
        raise EnvelopeError(f"type: {ce_type!r} is not a case event")
    name, _, version = ce_type[len(TYPE_PREFIX) :].rpartition(".v")
    if version != str(SCHEMA_VERSION):
        raise EnvelopeError(f"type: schema version {version!r} is not supported")
    try:
        data = _data_adapter.validate_json(value)  # parsed and validated in one pass
        if data.type != name:
            raise EnvelopeError("data: type does not match the CloudEvent type")
        return CaseEvent(
            event_id=attrs["ce_id"],
            case_id=attrs["ce_subject"],
            sequence=int(attrs["ce_sequence"]),
            business_date=date.fromisoformat(attrs["ce_businessdate"]),
            recorded_at=datetime.fromisoformat(attrs["ce_time"].replace("Z", "+00:00")),
            schema_version=SCHEMA_VERSION,
            data=data,
        )
    except EnvelopeError:
        raise
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        raise EnvelopeError(f"unreadable case event: {type(exc).__name__}: {exc}") from exc
