"""Signing in with the organisation's identity provider: OpenID Connect's authorization-code
flow with PKCE (RFC 7636, S256).

1. ``/app/sign-in/oidc`` sends the browser to the provider's authorization endpoint (from its
   discovery document) with a fresh ``state``, ``nonce`` and code challenge; the verifier
   and state wait in the browser's pre-sign-in session (server-side, never in the cookie).
2. ``/app/sign-in/callback`` checks the state, trades the code and verifier for tokens at the
   token endpoint, and keeps the access token — which the API verifies on every call exactly
   as it verifies any bearer token: the provider's keys (``BOSETTING_API_JWKS_FILE``), our
   issuer and audience, and the role and scope claims. A token the API would refuse signs
   nobody in."""

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge


class SignInFailed(Exception):
    """The provider refused, or answered something we cannot use (the message names which
    step; it never carries a token or a code)."""


@dataclass
class Oidc:
    issuer: str
    client_id: str
    client_secret: str | None
    scope: str = "openid"
    redirect_url: str | None = None
    """Where the provider sends the browser back; default: this app's own callback URL."""
    _discovery: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._discovery is None:
            url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                async with httpx.AsyncClient(timeout=10) as http:
                    answer = await http.get(url)
                answer.raise_for_status()
                found = answer.json()
            except (httpx.HTTPError, ValueError):
                raise SignInFailed("discovery: the identity provider did not answer") from None
            for name in ("authorization_endpoint", "token_endpoint"):
                if not isinstance(found.get(name), str):
                    raise SignInFailed(f"discovery: {name} is missing")
            self._discovery = found
        return self._discovery

    async def begin(self, callback: str) -> tuple[str, dict[str, Any]]:
        """The provider's address to send the browser to, and what to keep until it
        comes back."""
        meta = await self.metadata()
        pending = {
            "state": generate_token(32),
            "nonce": generate_token(32),
            "verifier": generate_token(64),
            "callback": self.redirect_url or callback,
        }
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": pending["callback"],
            "scope": self.scope,
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": create_s256_code_challenge(pending["verifier"]),
            "code_challenge_method": "S256",
        }
        return f"{meta['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(self, pending: dict[str, Any], state: str, code: str) -> str:
        """The access token for the code, after checking the state."""
        if not pending or not secrets.compare_digest(state, str(pending.get("state", ""))):
            raise SignInFailed("callback: state does not match this browser's sign-in")
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending["callback"],
            "code_verifier": pending["verifier"],
            "client_id": self.client_id,
        }
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                if self.client_secret:
                    auth = httpx.BasicAuth(self.client_id, self.client_secret)
                    answer = await http.post(meta["token_endpoint"], data=form, auth=auth)
                else:
                    answer = await http.post(meta["token_endpoint"], data=form)
            answer.raise_for_status()
            token = answer.json().get("access_token")
        except (httpx.HTTPError, ValueError):
            raise SignInFailed("token: the identity provider refused the code") from None
        if not isinstance(token, str):
            raise SignInFailed("token: no access_token in the answer")
        return token

    async def end_session_url(self, back: str) -> str | None:
        """The provider's sign-out address (RP-initiated logout), if it publishes one."""
        try:
            meta = await self.metadata()
        except SignInFailed:
            return None
        end = meta.get("end_session_endpoint")
        if not isinstance(end, str):
            return None
        return f"{end}?{urlencode({'client_id': self.client_id, 'post_logout_redirect_uri': back})}"
