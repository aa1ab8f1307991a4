"""Encryption of Temporal payloads and of case events on the topic (AES-256-GCM).

Payloads: workflow histories — which hold a household's state: birth dates, service needs,
education — are unreadable to whoever runs or backs up the Temporal cluster. Search
attributes are not payloads and stay readable: they carry codes only.

The topic (``TopicSeal``): a case event's data says where a household was allocated and
settled, a protected household's too, so it is sealed on the case-events topic and opened
only by our own consumers (the projection and the municipality feed). ``BOSETTING_TOPIC_KEYS``
has the same form as the payload keys.

``BOSETTING_PAYLOAD_KEYS`` is ``id=<base64 key>,id=<base64 key>…``: the first key encrypts,
every key decrypts, so a key is rotated by putting a new one first and dropping the old one
once no open workflow's history needs it. Payloads written before encryption was turned on
stay readable (they carry no encryption marker). Make a key with ``bosetting payload-key``.
"""

import base64
import os
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NAMEABLE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
"""A key id read from a record is named in an error only if it looks like one of ours."""


class PayloadKeyError(ValueError):
    """The key setting is malformed, or a payload names a key we do not have."""


def parse_keys(setting: str, field: str = "payload_keys") -> dict[str, bytes]:
    """``id=<base64>,…`` in order, the first being the one that encrypts. ``field``: the
    setting's name, for the error."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in setting.split(","))):
        key_id, sep, encoded = item.partition("=")
        if not sep or not key_id:
            raise PayloadKeyError(f"{field}: each key is id=<base64 of 32 bytes>")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise PayloadKeyError(f"{field}: key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise PayloadKeyError(f"{field}: key {key_id!r} must be 32 bytes (AES-256)")
        keys[key_id] = key
    if not keys:
        raise PayloadKeyError(f"{field}: no key given")
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


class TopicSeal:
    """Seals a record's value for the case-events topic: 12 bytes of nonce, then the AES-GCM
    ciphertext and tag; the associated data (the record's attributes, schemas/envelope.py)
    binds it to its record, so a sealed value moved onto another record, or a record whose
    attributes were altered, does not open. The first key seals, every key opens (rotation as
    for the payload keys)."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        self.key_id = next(iter(keys))
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def seal(self, plain: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._ciphers[self.key_id].encrypt(nonce, plain, bound_to)

    def open(self, key_id: str, sealed: bytes, bound_to: bytes) -> bytes:
        """The plain value, or PayloadKeyError saying why not (never what it holds)."""
        named = f"key {key_id!r}" if _NAMEABLE.fullmatch(key_id) else "an unnamed key"
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyError(f"sealed with {named}, which is not configured")
        try:
            return cipher.decrypt(sealed[:12], sealed[12:], bound_to)
        except InvalidTag:
            raise PayloadKeyError(
                f"sealed with {named} but does not open: altered, or sealed with another key"
            ) from None


def dev_topic_keys(directory: Path) -> str:
    """The embedded stack's topic key (``dev=<base64>``), made on first use and readable by
    its owner only. Never for production: there the keys come from the secret store."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "topic-keys"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(f"dev={new_key()}\n")
    return path.read_text().strip()
