"""Idempotency keys bound to their request, as the IETF Idempotency-Key draft advises.

The same key sent again with the same request is the same command (its id is made of the
caller and the key) and answers as the first did. The same key with another body, or for
another step, is a client's mistake that would otherwise silently drop the new command: it
is refused (422), naming the header. What a key was first used for is kept as a fingerprint
(a hash of the step and the body), never the body itself."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.platform.register import IdempotencyKeyUse


class KeyReused(Exception):
    """The key was first used for another request."""


def fingerprint(step: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([step, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def bind(register: async_sessionmaker[AsyncSession], command_id: str, print_: str) -> None:
    """Remember what the key is for, or check it is for the same again (KeyReused if not)."""
    try:
        async with register.begin() as session:
            session.add(
                IdempotencyKeyUse(
                    command_id=command_id, fingerprint=print_, first_used_at=datetime.now(UTC)
                )
            )
    except IntegrityError:
        async with register() as session:
            first = await session.get(IdempotencyKeyUse, command_id)
        if first is None or first.fingerprint != print_:
            raise KeyReused from None
