"""Signing in to the web app through an OpenID Connect provider: authorization code with PKCE.

No identity provider runs on this machine, so the provider here is a small one of the
test's own, served over real HTTP on loopback: it publishes a discovery document, checks
the PKCE challenge against the verifier (S256) as RFC 7636 says a provider must, and issues
access tokens signed with the keys the API trusts."""

import asyncio
import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from schemas.enums import Role
from tests.api.conftest import AUDIENCE, ISSUER, Api, open_api
from tests.api.test_web import LOOPBACK, csrf_of
from tests.ports import free_port
from tests.waiting import eventually
from workers.api.auth import Principal, mint
from workers.api.web.oidc import Oidc

CLIENT_ID = "bosetting-web"


@dataclass
class Provider:
    """The provider's memory: codes it issued, with the challenge each must meet."""

    private_key: Path
    principal: Principal
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    url: str = ""

    def app(self) -> Starlette:
        async def discovery(request: Request) -> JSONResponse:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "end_session_endpoint": f"{self.url}/logout",
                }
            )

        async def authorize(request: Request) -> Any:
            q = request.query_params
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                self.refused.append("authorize: no S256 challenge")
                return JSONResponse({"error": "invalid_request"}, 400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "challenge": q["code_challenge"],
                "redirect_uri": q["redirect_uri"],
                "client_id": q["client_id"],
            }
            return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}", 302)

        async def token(request: Request) -> JSONResponse:
            form = await request.form()
            issued = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if issued is None or issued["challenge"] != challenge:
                self.refused.append("token: code or verifier does not match")
                return JSONResponse({"error": "invalid_grant"}, 400)
            if form.get("redirect_uri") != issued["redirect_uri"]:
                self.refused.append("token: redirect_uri differs")
                return JSONResponse({"error": "invalid_grant"}, 400)
            access = mint(
                self.private_key, issuer=ISSUER, audience=AUDIENCE, principal=self.principal
            )
            return JSONResponse({"access_token": access, "token_type": "Bearer"})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
            ]
        )


@pytest.fixture
async def provider_and_web(tmp_path: Path, migrated: Path) -> AsyncIterator[tuple[Provider, Api]]:
    port = free_port()
    async with open_api(tmp_path, migrated, base_url=LOOPBACK) as web:
        provider = Provider(
            web.private_key,
            Principal(subject="oslo-idp-1", role=Role.MUNICIPALITY, municipality_number="0301"),
            url=f"http://127.0.0.1:{port}",
        )
        server = uvicorn.Server(
            uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_config=None)
        )
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started, within_s=10, what="the provider to listen")
        web_config = web.client._transport.app.state.web  # type: ignore[attr-defined]
        web_config.oidc = Oidc(issuer=provider.url, client_id=CLIENT_ID, client_secret=None)
        try:
            yield provider, web
        finally:
            server.should_exit = True
            await serving


async def _through_the_provider(web: Api, next_path: str) -> httpx.Response:
    """The browser's way: our app → the provider → our callback."""
    start = await web.client.get(f"/app/sign-in/oidc?next={next_path}")
    assert start.status_code == 303
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    callback = urlparse(at_provider.headers["location"])
    # Providers add parameters of their own (scope, session_state, …): ignored, not refused.
    return await web.client.get(f"{callback.path}?{callback.query}&scope=openid&authuser=0")


async def test_signing_in_with_the_provider_uses_pkce_and_the_apis_reading_of_the_token(
    provider_and_web: tuple[Provider, Api],
) -> None:
    provider, web = provider_and_web
    page = await web.client.get("/app/sign-in")
    assert 'href="/app/sign-in/oidc?next=' in page.text
    start = await web.client.get("/app/sign-in/oidc?next=/app/queues/inbox")
    sent = parse_qs(urlparse(start.headers["location"]).query)
    assert sent["code_challenge_method"] == ["S256"]
    assert sent["redirect_uri"] == [f"{LOOPBACK}/app/sign-in/callback"]
    assert {"state", "nonce", "code_challenge"} <= set(sent)
    assert "verifier" not in start.headers["location"]

    done = await _through_the_provider(web, "/app/queues/inbox")
    assert done.status_code == 303
    assert done.headers["location"] == "/app/queues/inbox"
    assert provider.refused == []
    inbox = await web.client.get("/app/queues/inbox")
    assert inbox.headers["location"].startswith("/app/purpose")  # signed in: purpose next
    form = await web.client.get("/app/purpose")
    assert "Kommune · 0301" in form.text  # who the token says, as the API reads it
    await web.client.post("/app/purpose", data={"csrf": csrf_of(form.text), "purpose": "inbox"})
    assert (await web.client.get("/app/queues/inbox")).status_code == 200


async def test_a_callback_that_is_not_this_browsers_sign_in_signs_nobody_in(
    provider_and_web: tuple[Provider, Api],
) -> None:
    _, web = provider_and_web
    start = await web.client.get("/app/sign-in/oidc?next=/app")
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(start.headers["location"])
    code = parse_qs(urlparse(at_provider.headers["location"]).query)["code"][0]
    forged = await web.client.get(f"/app/sign-in/callback?code={code}&state=not-the-state")
    assert forged.headers["location"] == "/app/sign-in?failed=1"
    assert (await web.client.get("/app/queues/inbox")).status_code == 303
    # A code alone, in a browser that never began signing in, is worth nothing either.
    async with httpx.AsyncClient(transport=web.client._transport, base_url=LOOPBACK) as stranger:
        answer = await stranger.get(f"/app/sign-in/callback?code={code}&state=x")
        assert answer.headers["location"] == "/app/sign-in?failed=1"


async def test_a_token_the_api_would_refuse_signs_nobody_in(
    provider_and_web: tuple[Provider, Api], tmp_path: Path
) -> None:
    provider, web = provider_and_web
    from workers.api.auth import dev_keys

    other_key, _ = dev_keys(tmp_path / "another-provider")
    provider.private_key = other_key  # signed with a key the API does not trust
    done = await _through_the_provider(web, "/app")
    assert done.headers["location"] == "/app/sign-in?failed=1"
    assert (await web.client.get("/app/queues/inbox")).status_code == 303
