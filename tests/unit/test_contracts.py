"""The committed event contracts are the ones the models make, and they describe the
messages the code really sends."""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import jsonschema
import pytest

from schemas.envelope import from_kafka, to_kafka
from schemas.events import CaseEvent, EventPerson, PersonSettled, ResidencePermitGranted
from workers.operations.contracts import asyncapi, event_schema, event_types, write
from workers.platform.codec import TopicSeal, new_key, parse_keys
from workers.platform.settings import Settings

DOCS = Path(__file__).parents[2] / "docs"


def test_the_committed_contracts_are_current(tmp_path):
    written = write(tmp_path, Settings.model_construct())
    for path in written:
        committed = DOCS / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run bosetting contracts"
        assert json.loads(committed.read_text()) == json.loads(path.read_text()), (
            f"{committed} is stale: run bosetting contracts"
        )
    assert {p.name for p in (DOCS / "events").iterdir()} == {
        p.name for p in (tmp_path / "events").iterdir()
    }


def test_every_event_type_has_a_schema_and_a_message_on_both_topics():
    document = asyncapi(Settings.model_construct())
    names = {m.__name__ for m in event_types()}
    assert len(names) >= 30
    case = document["channels"]["caseEvents"]["messages"]
    feed = document["channels"]["municipalityEvents"]["messages"]
    assert set(case) == names
    assert set(feed) == {f"Municipality{n}" for n in names}
    assert names <= set(document["components"]["schemas"])


def test_a_real_message_matches_its_published_schema():
    event = CaseEvent(
        event_id=uuid4(),
        case_id="case-0001",
        sequence=3,
        business_date=date(2020, 5, 1),
        recorded_at=datetime.now(UTC),
        data=PersonSettled(
            person_id="case-0001-p0",
            category="other_adult",
            protected_identity=False,
            case_type="reception",
            permit_date=date(2020, 1, 10),
            municipality_number="0301",
        ),
    )
    seal = TopicSeal(parse_keys(f"k1={new_key()}", "topic_keys"))
    record = to_kafka(event, traceparent=f"00-{'a1' * 16}-{'b2' * 8}-01", seal=seal)
    schema = json.loads((DOCS / "events" / "PersonSettled.v1.json").read_text())
    opened = from_kafka(record.headers, record.value, seal).data.model_dump(mode="json")
    jsonschema.validate(opened, schema)
    headers = {k: v.decode() for k, v in record.headers}
    message = asyncapi(Settings.model_construct())["components"]["messages"]["PersonSettled"]
    jsonschema.validate(headers, message["headers"])
    assert headers["ce_traceparent"].startswith("00-a1a1")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(headers | {"ce_traceparent": "not a trace"}, message["headers"])
    # And a schema says no to what the model refuses.
    bad = opened | {"municipality_number": "Oslo"}
    with pytest.raises(jsonschema.ValidationError) as refused:
        jsonschema.validate(bad, schema)
    assert list(refused.value.absolute_path) == ["municipality_number"]


def test_schemas_are_self_contained():
    schema = event_schema(ResidencePermitGranted)
    jsonschema.Draft202012Validator.check_schema(schema)
    data = ResidencePermitGranted(
        case_type="reception",
        persons=[EventPerson(person_id="case-1-p0", protected_identity=False)],
    ).model_dump(mode="json")
    jsonschema.validate(data, schema)


def test_a_real_alert_matches_the_alerts_channel():
    from workers.operations.alerts import Alert, alert_record

    document = asyncapi(Settings.model_construct())
    assert document["channels"]["alerts"]["address"] == "bosetting.alerts.v1"
    alert = Alert(state="cleared", check="projection", verdict="OK", detail="alive", at=NOW)
    record = alert_record(alert)
    message = document["components"]["messages"]["AlertCleared"]
    schema = {**document["components"]["schemas"]["Alert"], "$defs": {}}
    jsonschema.validate(json.loads(record.value), schema)
    jsonschema.validate({k: v.decode() for k, v in record.headers}, message["headers"])
    raised = alert_record(alert.model_copy(update={"state": "raised"}))
    headers = {k: v.decode() for k, v in raised.headers}
    with pytest.raises(jsonschema.ValidationError):  # a raised alert is not a cleared one
        jsonschema.validate(headers, message["headers"])


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
