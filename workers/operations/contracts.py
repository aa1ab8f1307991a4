"""The published contracts of the event topics: a JSON Schema per event type and an AsyncAPI
document for the three topics (case events, the municipality feed, alerts), made from the
pydantic models so they cannot drift. ``bosetting contracts`` writes them to ``docs/``; a test
checks the committed copies are current."""

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from schemas.envelope import SOURCE, TYPE_PREFIX, cloudevent_type
from schemas.events import PLACES_EVENTS, QUALIFICATION_EVENTS, SCHEMA_VERSION, EventData
from workers.operations.alerts import SOURCE as ALERT_SOURCE
from workers.operations.alerts import TYPE_PREFIX as ALERT_TYPE_PREFIX
from workers.operations.alerts import Alert
from workers.platform.settings import Settings
from workers.projection.feed import SOURCE as FEED_SOURCE
from workers.projection.feed import TYPE_PREFIX as FEED_TYPE_PREFIX

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


def event_types() -> list[type[BaseModel]]:
    union = get_args(EventData)[0]
    return list(get_args(union))


def event_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A self-contained JSON Schema of one event type's data (the CloudEvent's data)."""
    schema = model.model_json_schema()
    name = model.__name__
    return {
        "$schema": JSON_SCHEMA,
        "$id": f"urn:bosetting:schema:{name}.v{SCHEMA_VERSION}",
        **schema,
    }


def _headers(source: str, extra: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvents binary-mode headers (ce_*) of a message."""
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time"],
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {"type": "string", "format": "uuid", "description": "The event id."},
            "ce_source": {"const": source},
            "ce_type": text,
            "ce_subject": text,
            "ce_time": {"type": "string", "format": "date-time", "description": "Recorded at"},
            "ce_businessdate": {"type": "string", "format": "date", "description": "Happened on"},
            "content-type": {"const": "application/json"},
            **extra,
        },
    }


def asyncapi(settings: Settings) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    case_messages: dict[str, Any] = {}
    feed_messages: dict[str, Any] = {}
    for model in event_types():
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
        stream = (
            "a person's qualification record"
            if model in QUALIFICATION_EVENTS
            else "a municipality's places in a year"
            if model in PLACES_EVENTS
            else "a case"
        )
        summary = (model.__doc__ or name).strip().split("\n\n")[0].replace("\n", " ")
        payload = {"$ref": f"#/components/schemas/{name}"}
        case_messages[name] = {
            "name": name,
            "title": name,
            "summary": summary,
            "contentType": "application/json",
            "headers": _headers(
                SOURCE,
                {
                    "content-type": {
                        "const": "application/octet-stream",
                        "description": "The data is sealed (see ce_sealedwith)",
                    },
                    "ce_sealedwith": {
                        "type": "string",
                        "description": "The topic key that sealed the data: the value is a "
                        "12-byte nonce, then the AES-256-GCM ciphertext and tag of the JSON "
                        "payload below; the associated data is the UTF-8 values of ce_id, "
                        "ce_type, ce_subject, ce_sequence, ce_businessdate and ce_time, "
                        "joined by newlines (an absent one as empty)",
                    },
                    "ce_type": {"const": cloudevent_type(name)},
                    "ce_sequence": {"type": "string", "description": f"Position in {stream}"},
                    "ce_partitionkey": {"type": "string"},
                    "ce_traceparent": {
                        "type": "string",
                        "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                        "description": "W3C trace context of the step that recorded it "
                        "(CloudEvents distributed tracing extension); absent when untraced",
                    },
                },
            ),
            "payload": payload,
            "bindings": {"kafka": {"key": {"type": "string", "description": "The stream id"}}},
        }
        feed_messages[f"Municipality{name}"] = {
            "name": name,
            "title": f"{name} (municipality feed)",
            "summary": summary,
            "contentType": "application/json",
            "headers": _headers(
                FEED_SOURCE,
                {
                    "ce_type": {"const": f"{FEED_TYPE_PREFIX}{name}.v{SCHEMA_VERSION}"},
                    "ce_municipalitynumber": {"type": "string", "pattern": "^\\d{4}$"},
                    "ce_streamkind": {"enum": ["case", "qualification"]},
                },
            ),
            "payload": payload,
            "bindings": {
                "kafka": {"key": {"type": "string", "description": "The municipality number"}}
            },
        }
    schemas["Alert"] = Alert.model_json_schema(ref_template="#/components/schemas/{model}")
    alert_messages = {
        f"Alert{state.capitalize()}": {
            "name": f"alert.{state}",
            "title": f"Alert {state}",
            "summary": f"A monitor check {'left' if state == 'raised' else 'came back to'} OK.",
            "contentType": "application/json",
            "headers": _headers(
                ALERT_SOURCE, {"ce_type": {"const": f"{ALERT_TYPE_PREFIX}{state}.v1"}}
            ),
            "payload": {"$ref": "#/components/schemas/Alert"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "The check"}}},
        }
        for state in ("raised", "cleared")
    }
    messages = case_messages | feed_messages | alert_messages

    def refs(names: dict[str, Any]) -> dict[str, Any]:
        return {n: {"$ref": f"#/components/messages/{n}"} for n in names}

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Bosetting events",
            "version": str(SCHEMA_VERSION),
            "description": "Every step of a settlement case, as CloudEvents 1.0 in Kafka binary "
            f"mode (attributes in ce_* headers, the data as the JSON value). Types are "
            f"'{TYPE_PREFIX}<Event>.v<schema version>' on the case topic and "
            f"'{FEED_TYPE_PREFIX}<Event>.v<schema version>' on the municipality feed. No "
            "names, national ids, addresses or health details; ids are pseudonyms.",
        },
        "defaultContentType": "application/json",
        "channels": {
            "caseEvents": {
                "address": settings.kafka_topic,
                "description": "Every event of every case and qualification record, keyed by "
                "stream id (case id, or person id for a qualification record): in order per "
                "stream, at least once (dedupe by ce_id or by stream and ce_sequence). The "
                "data is sealed with the topic keys (ce_sealedwith): only the Bosetting "
                "processes read it; the attributes are readable.",
                "messages": refs(case_messages),
            },
            "municipalityEvents": {
                "address": settings.kafka_feed_topic,
                "description": "Each municipality's events, keyed by municipality number. "
                "Protected-identity persons appear without their id.",
                "messages": refs(feed_messages),
            },
            "alerts": {
                "address": settings.kafka_alerts_topic,
                "description": "The monitor's alerts: a check left OK or came back, keyed by "
                "the check's name. Best effort: the monitor keeps unsent alerts while the "
                "broker is away, and logs each one too.",
                "messages": refs(alert_messages),
            },
        },
        "operations": {
            "consumeCaseEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/caseEvents"},
                "summary": "The projection, the municipality feed and the monitor consume it.",
            },
            "consumeMunicipalityEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/municipalityEvents"},
                "summary": "A municipality's systems consume their key.",
            },
            "consumeAlerts": {
                "action": "receive",
                "channel": {"$ref": "#/channels/alerts"},
                "summary": "A pager, chat bridge or incident tool consumes it.",
            },
        },
        "components": {"messages": messages, "schemas": schemas},
    }


def write(out: Path, settings: Settings) -> list[Path]:
    """Write docs/asyncapi.json and docs/events/<Type>.v<N>.json; returns the paths."""
    events = out / "events"
    events.mkdir(parents=True, exist_ok=True)
    written = []
    for model in event_types():
        path = events / f"{model.__name__}.v{SCHEMA_VERSION}.json"
        path.write_text(json.dumps(event_schema(model), indent=2, sort_keys=True) + "\n")
        written.append(path)
    path = out / "asyncapi.json"
    path.write_text(json.dumps(asyncapi(settings), indent=2, sort_keys=True) + "\n")
    return [*written, path]
