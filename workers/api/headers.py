"""Response headers for a service that serves personal data: nothing is cached, nothing is
sniffed or framed, and the HTML pages (the web app's, the dashboard, the API documentation)
run only the scripts they ship, named by hash in their Content-Security-Policy."""

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

ALWAYS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
DATA_POLICY = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
"""JSON answers: nothing to load, run or frame."""


def page_policy(html: bytes) -> bytes:
    """A page's policy: its own origin, and of inline scripts only the ones it has now.
    Inline styles stay allowed: the documentation's renderer sets them as it draws."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ).encode()


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in dict(ALWAYS)]
                message = {**message, "headers": [*headers, *ALWAYS]}
                if not _is_html(message):
                    message["headers"].append((b"content-security-policy", DATA_POLICY))
                    await send(message)
                    return
                start = message  # an HTML page: its policy needs its body; hold it back
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            start["headers"].append((b"content-security-policy", page_policy(body)))
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, with_headers)


def _is_html(start: Message) -> bool:
    return any(
        name == b"content-type" and value.startswith(b"text/html")
        for name, value in start.get("headers", [])
    )
