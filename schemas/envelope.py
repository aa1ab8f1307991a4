"""CloudEvents (binary content mode) for case events on Kafka.

Attributes go to ``ce_*`` headers, the event data is the JSON value, and the key is the
case id so that all of a case's events land, in order, on one partition.

With a ``Seal`` (the topic keys, ``workers/platform/codec.py``) the value is the data sealed:
AES-256-GCM with the attributes a consumer relies on as associated data (``BOUND``), its key
named in the ``sealedwith`` extension attribute, and the ``datacontenttype`` (the binding's
``content-type`` header) ``application/octet-stream``. The attributes stay readable (they say
what happened to which case and when, never where); the data (municipality, reception
centre, the members' dates) opens only with the key, and neither it nor those attributes can
be changed or moved onto another record without the key. A reader with a seal reads sealed
records only: whatever else is on the topic is not ours.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import TypeAdapter, ValidationError

from schemas.events import SCHEMA_VERSION, CaseEvent, EventData

SOURCE = "urn:bosetting:settlement-case"
TYPE_PREFIX = "no.bosetting.case."
_data_adapter: TypeAdapter[EventData] = TypeAdapter(EventData)


SEALED = "application/octet-stream"
BOUND = ("ce_id", "ce_type", "ce_subject", "ce_sequence", "ce_businessdate", "ce_time")
"""The attributes a sealed value is bound to: a record whose id, type, stream, position or
dates were altered does not open."""


def _bound(attributes: dict[str, bytes]) -> bytes:
    return b"\n".join(attributes.get(name, b"") for name in BOUND)


class EnvelopeError(ValueError):
    """A record on the topic is not a case event this code understands."""


class Seal(Protocol):
    """Seals and opens a record's value; ``open`` raises ValueError saying why it cannot."""

    key_id: str

    def seal(self, plain: bytes, bound_to: bytes) -> bytes: ...

    def open(self, key_id: str, sealed: bytes, bound_to: bytes) -> bytes: ...


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


def to_kafka(
    event: CaseEvent, traceparent: str | None = None, seal: Seal | None = None
) -> KafkaRecord:
    """``traceparent``: the W3C trace context of the step that recorded the event (CloudEvents'
    distributed tracing extension), so consumers can link their work to it. ``seal``: seal
    the data (every case event on the topic is sealed when topic keys are set)."""
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
    record = KafkaRecord.binary(event.case_id, ce)
    if seal is None:
        return record
    # The Kafka binding carries datacontenttype as the content-type header.
    headers = [(k, v) for k, v in record.headers if k != "content-type"]
    return KafkaRecord(
        key=record.key,
        headers=[
            *headers,
            ("content-type", SEALED.encode()),
            ("ce_sealedwith", seal.key_id.encode()),
        ],
        value=seal.seal(record.value, bound_to=_bound(dict(record.headers))),
    )


_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time")


def from_kafka(
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...],
    value: bytes,
    seal: Seal | None = None,
) -> CaseEvent:
    """Parse a Kafka record into a case event, or raise EnvelopeError saying why. A sealed
    record needs ``seal`` to open it.

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
    if "ce_sealedwith" in attrs:
        if seal is None:
            raise EnvelopeError("data: sealed, and no topic key is configured to open it")
        bound = _bound({name: attrs[name].encode() for name in BOUND if name in attrs})
        try:
            value = seal.open(attrs["ce_sealedwith"], value, bound)
        except ValueError as exc:
            raise EnvelopeError(f"data: {exc}") from None
    elif seal is not None:
        raise EnvelopeError("data: not sealed; with topic keys set, only sealed records count")
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
