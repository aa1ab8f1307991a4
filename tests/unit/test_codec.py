"""Temporal payload encryption: round trip, rotation, old plain payloads, a missing key, and
settings that refuse a malformed key without echoing it."""

import base64

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from workers.platform.codec import EncryptionCodec, PayloadKeyError, new_key, parse_keys
from workers.platform.settings import Settings

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"birth_date": "1988-04-02"}')


async def test_payloads_round_trip_encrypted():
    codec = EncryptionCodec(parse_keys(f"k1={new_key()}"))
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert b"1988" not in sealed.data
    assert await codec.decode([sealed]) == [PLAIN]
    [again] = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_a_rotated_key_still_reads_old_payloads_and_plain_ones_pass():
    old, new = new_key(), new_key()
    [sealed_old] = await EncryptionCodec(parse_keys(f"k1={old}")).encode([PLAIN])
    rotated = EncryptionCodec(parse_keys(f"k2={new},k1={old}"))
    [sealed_new] = await rotated.encode([PLAIN])
    assert sealed_new.metadata["encryption-key-id"] == b"k2"
    assert await rotated.decode([sealed_old, sealed_new, PLAIN]) == [PLAIN, PLAIN, PLAIN]
    with pytest.raises(PayloadKeyError, match="'k1', which is not configured"):
        await EncryptionCodec(parse_keys(f"k2={new}")).decode([sealed_old])


@pytest.mark.parametrize(
    ("setting", "rule"),
    [
        ("k1", "each key is id=<base64 of 32 bytes>"),
        ("k1=not*base64", "is not base64"),
        (f"k1={base64.b64encode(b'short').decode()}", "must be 32 bytes"),
        (" , ", "no key given"),
    ],
)
def test_malformed_keys_are_refused_naming_the_rule_not_the_key(setting: str, rule: str):
    with pytest.raises(ValidationError) as refused:
        Settings(payload_keys=setting)
    text = str(refused.value)
    assert "payload_keys" in text
    assert rule in text
    if "=" in setting:
        assert setting.split("=", 1)[1] not in text
