"""Browser sessions: a cookie with a random value and nothing else; the reader's token, the
form token (CSRF) and the purpose they gave live in the register (``web_session``), found by
the value's hash. The token is stored encrypted with a key derived from the cookie's value,
which is never stored: a copy of the table holds no usable token.

The cookie is HttpOnly and SameSite=Lax always, and Secure unless the app is served on
loopback (a development stack over plain HTTP). Signing out deletes the row."""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request, Response
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.platform.register import WebSessionRow

COOKIE = "bosetting_session"


@dataclass
class WebSession:
    id_hash: str
    csrf: str
    token: str | None
    purpose: str | None
    pending: dict[str, Any] | None
    expires_at: datetime


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _sealer(value: str) -> Fernet:
    """The token's key: derived from the cookie's value (and never the same as its hash)."""
    digest = hashlib.sha256(b"bosetting web session token\x00" + value.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _loopback(request: Request) -> bool:
    return (request.url.hostname or "") in ("127.0.0.1", "localhost", "::1")


class Sessions:
    def __init__(self, register: async_sessionmaker[AsyncSession], ttl: timedelta) -> None:
        self._register = register
        self.ttl = ttl

    async def find(self, request: Request) -> WebSession | None:
        value = request.cookies.get(COOKIE)
        if not value or len(value) > 100:
            return None
        async with self._register() as session:
            row = await session.get(WebSessionRow, _hash(value))
        if row is None:
            return None
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            return None
        try:
            token = _sealer(value).decrypt(row.token.encode()).decode() if row.token else None
        except InvalidToken:
            return None
        return WebSession(
            row.id_hash,
            row.csrf,
            token,
            row.purpose,
            json.loads(row.pending) if row.pending else None,
            expires,
        )

    async def start(
        self,
        request: Request,
        response: Response,
        *,
        token: str | None = None,
        pending: dict[str, Any] | None = None,
    ) -> WebSession:
        """A new session (a new random value: signing in never reuses the one before)."""
        value = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + self.ttl
        row = WebSessionRow(
            id_hash=_hash(value),
            token=_sealer(value).encrypt(token.encode()).decode() if token else None,
            csrf=secrets.token_urlsafe(32),
            purpose=None,
            pending=json.dumps(pending) if pending else None,
            expires_at=expires,
        )
        async with self._register() as session, session.begin():
            await session.execute(
                delete(WebSessionRow).where(WebSessionRow.expires_at < datetime.now(UTC))
            )
            session.add(row)
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(self.ttl.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=not _loopback(request),
            path="/",
        )
        return WebSession(row.id_hash, row.csrf, token, None, pending, expires)

    async def update(self, web: WebSession, **values: Any) -> None:
        async with self._register() as session, session.begin():
            row = await session.get(WebSessionRow, web.id_hash)
            if row is None:
                return
            for name, value in values.items():
                if name == "pending":
                    value = json.dumps(value) if value else None
                setattr(row, name, value)
                setattr(web, name, value if name != "pending" else values[name])

    async def end(self, web: WebSession | None, response: Response) -> None:
        if web is not None:
            async with self._register() as session, session.begin():
                await session.execute(
                    delete(WebSessionRow).where(WebSessionRow.id_hash == web.id_hash)
                )
        response.delete_cookie(COOKIE, path="/")
