"""The pages are a client of the API, in the same process: every read and step goes through
the same route a bearer-token caller uses, with the reader's own token and the purpose they
gave. Scope, redaction, audit, idempotency and rate limits are the API's, not copied here —
what a page shows is exactly what the API would answer that reader."""

from typing import Any

import httpx
from starlette.types import ASGIApp


class Api:
    def __init__(self, app: ASGIApp, token: str, purpose: str | None) -> None:
        self._app = app
        self._headers = {"Authorization": f"Bearer {token}"}
        if purpose:
            self._headers["X-Purpose"] = purpose

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._app),
            base_url="http://127.0.0.1",
            headers=self._headers,
            timeout=30,
        )

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        async with self._client() as http:
            return await http.get(path, params=query)

    async def post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        async with self._client() as http:
            return await http.post(path, json=body, headers={"Idempotency-Key": key})
