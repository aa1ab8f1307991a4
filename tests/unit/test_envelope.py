from datetime import date

import pytest
from pydantic import ValidationError

from schemas.commands import GrantPermit
from schemas.envelope import EnvelopeError, from_kafka, to_kafka
from schemas.events import CaseEvent
from tests.factories import household, settled_event


def _event() -> CaseEvent:
    return settled_event()


def test_case_event_survives_the_cloudevents_round_trip():
    event = _event()
    record = to_kafka(event)
    assert record.key == b"case-0001"
    headers = dict(record.headers)
    assert headers["ce_type"] == b"no.bosetting.case.PersonSettled.v1"
    assert headers["ce_id"] == str(event.event_id).encode()
    assert headers["ce_specversion"] == b"1.0"
    assert from_kafka(record.headers, record.value) == event


def test_unknown_schema_version_is_refused():
    record = to_kafka(_event())
    headers = [
        (k, b"no.bosetting.case.PersonSettled.v9" if k == "ce_type" else v)
        for k, v in record.headers
    ]
    with pytest.raises(EnvelopeError, match="schema version"):
        from_kafka(headers, record.value)


def test_garbage_is_an_envelope_error_not_a_crash():
    with pytest.raises(EnvelopeError):
        from_kafka([("ce_id", b"x")], b"\xff not json")


def test_data_that_breaks_the_schema_is_refused():
    record = to_kafka(_event())
    with pytest.raises(EnvelopeError):
        from_kafka(record.headers, record.value.replace(b'"4601"', b'"46"'))


def test_events_carry_no_birth_dates():
    record = to_kafka(_event())
    assert b"birth" not in record.value
    assert all(b"birth" not in v for _, v in record.headers)


def test_a_case_id_shaped_like_a_national_identity_number_is_refused():
    data = household().model_dump()
    data["case_id"] = "hh-01018512345"
    with pytest.raises(ValidationError, match="case_id") as caught:
        GrantPermit.model_validate(data)
    assert "11 or 12 consecutive digits" in str(caught.value)


def test_a_household_with_a_repeated_person_is_refused_naming_the_field():
    g = household()
    data = g.model_dump()
    data["persons"] = data["persons"] * 2
    with pytest.raises(ValidationError, match="person_id must be unique"):
        GrantPermit.model_validate(data)


def test_a_birth_date_after_the_permit_is_refused():
    with pytest.raises(ValidationError, match="birth_date may not be after permit_date"):
        household(permit=date(2020, 1, 1), births=(date(2020, 6, 1),))


def test_the_fast_reader_agrees_with_the_cloudevents_sdk():
    from cloudevents.core.bindings import kafka as ce_kafka

    event = _event()
    record = to_kafka(event)
    ce = ce_kafka.from_binary_event(
        ce_kafka.KafkaMessage(headers=dict(record.headers), key=None, value=record.value)
    )
    ours = from_kafka(record.headers, record.value)
    attrs = ce.get_attributes()
    assert (str(ours.event_id), ours.case_id, ours.sequence) == (
        attrs["id"],
        attrs["subject"],
        int(attrs["sequence"]),
    )
    assert ours.recorded_at == attrs["time"]


def test_a_record_missing_a_cloudevents_header_is_named():
    record = to_kafka(_event())
    headers = [(k, v) for k, v in record.headers if k != "ce_subject"]
    with pytest.raises(EnvelopeError, match="missing ce_subject"):
        from_kafka(headers, record.value)
