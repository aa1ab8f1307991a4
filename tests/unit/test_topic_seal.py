"""Case events sealed on the topic: the data opens with the topic key only, is bound to its
record, survives a key rotation, and records written before sealing was turned on still read;
a process that writes or reads the topic does not start without a key."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from activities.publisher import logged_events
from schemas.envelope import EnvelopeError, from_kafka, to_kafka
from schemas.events import CaseEvent
from tests.factories import settled_event
from workers.platform.codec import TopicSeal, dev_topic_keys, new_key, parse_keys
from workers.platform.register import EventLogRow, row_for
from workers.platform.settings import CannotStart, Settings


def _settled(municipality: str = "4601") -> CaseEvent:
    return settled_event(municipality=municipality, protected=True)


def _seal(setting: str) -> TopicSeal:
    return TopicSeal(parse_keys(setting, "topic_keys"))


KEY = f"k1={new_key()}"


def test_a_sealed_event_says_what_happened_but_not_where():
    event = _settled()
    record = to_kafka(event, seal=_seal(KEY))
    headers = dict(record.headers)
    assert headers["ce_type"] == b"no.bosetting.case.PersonSettled.v1"
    assert headers["ce_subject"] == b"case-0001"
    assert headers["ce_sealedwith"] == b"k1"
    assert headers["content-type"] == b"application/octet-stream"  # the datacontenttype
    assert [k for k, _ in record.headers].count("content-type") == 1
    assert b"4601" not in record.value
    assert b"municipality" not in record.value
    assert from_kafka(record.headers, record.value, _seal(KEY)) == event
    again = to_kafka(event, seal=_seal(KEY))
    assert again.value != record.value  # a fresh nonce every time


def test_a_sealed_record_does_not_open_without_the_key_or_elsewhere():
    event = _settled()
    record = to_kafka(event, seal=_seal(KEY))
    with pytest.raises(EnvelopeError, match="sealed, and no topic key is configured"):
        from_kafka(record.headers, record.value)
    with pytest.raises(EnvelopeError, match="does not open"):
        from_kafka(record.headers, record.value, _seal(f"k1={new_key()}"))
    with pytest.raises(EnvelopeError, match="key 'k1', which is not configured"):
        from_kafka(record.headers, record.value, _seal(f"k2={new_key()}"))
    # The sealed value of one event put on another event's record: refused, not read.
    other = to_kafka(_settled("0301"), seal=_seal(KEY))
    with pytest.raises(EnvelopeError, match="does not open"):
        from_kafka(other.headers, record.value, _seal(KEY))
    # An attribute a consumer relies on altered (the stream, its position, the dates, the
    # type): the record does not open.
    for name, altered in [
        ("ce_subject", b"case-0002"),
        ("ce_sequence", b"8"),
        ("ce_businessdate", b"2020-05-05"),
        ("ce_time", b"2026-12-01T10:00:01Z"),
        ("ce_type", b"no.bosetting.case.PersonMoved.v1"),
    ]:
        forged = [(k, altered if k == name else v) for k, v in record.headers]
        with pytest.raises(EnvelopeError, match="does not open"):
            from_kafka(forged, record.value, _seal(KEY))
    # A key id of any shape from the topic is not echoed.
    odd = [(k, b"x" * 300 if k == "ce_sealedwith" else v) for k, v in record.headers]
    with pytest.raises(EnvelopeError, match="an unnamed key") as refused:
        from_kafka(odd, record.value, _seal(KEY))
    assert "xxx" not in str(refused.value)


def test_rotation_and_only_sealed_records_count_where_there_is_a_key():
    old, new = new_key(), new_key()
    event = _settled()
    sealed_old = to_kafka(event, seal=_seal(f"k1={old}"))
    rotated = _seal(f"k2={new},k1={old}")
    assert dict(to_kafka(event, seal=rotated).headers)["ce_sealedwith"] == b"k2"
    assert from_kafka(sealed_old.headers, sealed_old.value, rotated) == event
    # Plain records are read where no key is configured (tests of the projection alone);
    # where one is, anything not sealed with it is not ours: a forgery, never counted.
    plain = to_kafka(event)
    assert from_kafka(plain.headers, plain.value) == event
    with pytest.raises(EnvelopeError, match="not sealed"):
        from_kafka(plain.headers, plain.value, rotated)


def test_the_outbox_relay_seals_what_it_sends():
    event = _settled()
    row = EventLogRow(**row_for(event), position=1)
    record = logged_events(_seal(KEY))(row)
    assert b"4601" not in record.value
    assert from_kafka(record.headers, record.value, _seal(KEY)) == event


def test_the_processes_need_a_topic_key_and_a_malformed_one_is_refused(tmp_path: Path):
    with pytest.raises(CannotStart, match=r"topic_keys is not set.*BOSETTING_TOPIC_KEYS"):
        Settings(state_dir=tmp_path).topic_seal()
    assert Settings(topic_keys=KEY).topic_seal().key_id == "k1"
    secret = new_key()
    with pytest.raises(ValidationError) as refused:
        Settings(topic_keys=f"k1={secret[:-4]}")
    assert "topic_keys" in str(refused.value)
    assert secret[:-4] not in str(refused.value)


def test_the_embedded_stack_keeps_one_development_key_for_its_owner(tmp_path: Path):
    first = dev_topic_keys(tmp_path / "keys")
    assert first.startswith("dev=")
    assert parse_keys(first, "topic_keys")
    assert dev_topic_keys(tmp_path / "keys") == first
    assert (tmp_path / "keys" / "topic-keys").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("part", ["worker", "projection"])
def test_a_part_without_a_topic_key_says_so_in_one_line(tmp_path: Path, part: str):
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", part],
        env={"BOSETTING_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    out = " ".join((done.stdout + done.stderr).split())
    assert "error: topic_keys is not set" in out
    assert "Traceback" not in out
