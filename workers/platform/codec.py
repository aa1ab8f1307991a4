"""Encryption of Temporal payloads (AES-256-GCM), so that workflow histories — which hold a
household's state: birth dates, service needs, education — are unreadable to whoever runs or
backs up the Temporal cluster. Search attributes are not payloads and stay readable: they
carry codes only.

``BOSETTING_PAYLOAD_KEYS`` is ``id=<base64 key>,id=<base64 key>…``: the first key encrypts,
every key decrypts, so a key is rotated by putting a new one first and dropping the old one
once no open workflow's history needs it. Payloads written before encryption was turned on
stay readable (they carry no encryption marker). Make a key with ``bosetting payload-key``.
"""

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class PayloadKeyError(ValueError):
    """The key setting is malformed, or a payload names a key we do not have."""


def parse_keys(setting: str) -> dict[str, bytes]:
    """``id=<base64>,…`` in order, the first being the one that encrypts."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in setting.split(","))):
        key_id, sep, encoded = item.partition("=")
        if not sep or not key_id:
            raise PayloadKeyError("payload_keys: each key is id=<base64 of 32 bytes>")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise PayloadKeyError(f"payload_keys: key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise PayloadKeyError(f"payload_keys: key {key_id!r} must be 32 bytes (AES-256)")
        keys[key_id] = key
    if not keys:
        raise PayloadKeyError("payload_keys: no key given")
    return keys


def new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._current = next(iter(keys))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self._current]
        encoded = []
        for payload in payloads:
            nonce = os.urandom(12)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, KEY_ID: self._current.encode()},
                    data=nonce + cipher.encrypt(nonce, payload.SerializeToString(), None),
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)  # written before encryption was turned on
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise PayloadKeyError(
                    f"payload encrypted with key {key_id!r}, which is not configured"
                )
            plain = cipher.decrypt(payload.data[:12], payload.data[12:], None)
            decoded.append(Payload.FromString(plain))
        return decoded
