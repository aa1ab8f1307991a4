"""What keeps one caller, signed in or not, from taking the API down or reading it faster
than a person could: a body size limit before anything is parsed, a rate limit per caller,
a cap on each caller's open long-polls, and answers that take as long for an object outside
one's scope as for one that does not exist.

The limits are per API process (in memory). With several replicas a caller gets the limit
once per replica; ``BOSETTING_API_RATE_LIMIT_STORAGE`` may point at a shared store
(``redis://…``, as the ``limits`` library reads it) to make it one."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1_048_576
    """Largest request body; larger ones are refused (413) before a byte is parsed."""
    reads_per_caller: str = "600/minute"
    """Requests per caller (token subject), in the ``limits`` library's notation."""
    long_polls_per_caller: int = 4
    """Feed requests with ``wait`` one caller may hold open at once."""
    not_found_floor_s: float = 0.2
    """Every 'not found' of a case or record takes at least this long, so that timing does
    not tell an object outside one's scope (which exists) from one that does not."""
    storage: str = "memory://"


class BodyLimit:
    """Pure ASGI middleware: refuses a body over the limit with 413, whether it announces its
    length or streams it in chunks, before the application reads (and parses) it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            # Over the limit mid-stream: answer 413 now, and tell the application the client
            # has gone, so that it stops reading; whatever it answers then is dropped.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    await _too_large(send, self.max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, unless_refused)


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"body: larger than the limit of {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_ONCE_A_MINUTE = parse("1/minute")


@dataclass
class CallerLimits:
    """The per-caller limits of one API process."""

    limits: Limits
    _rate: RateLimitItem = field(init=False)
    _limiter: MovingWindowRateLimiter = field(init=False)
    _polls: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rate = parse(self.limits.reads_per_caller)
        self._limiter = MovingWindowRateLimiter(storage_from_string(self.limits.storage))

    def allow(self, subject: str) -> tuple[bool, int]:
        """Count a request; (allowed, seconds until the window has room again)."""
        if self._limiter.hit(self._rate, subject):
            return True, 0
        reset = self._limiter.get_window_stats(self._rate, subject).reset_time
        return False, max(1, int(reset - time.time()) + 1)

    def first_refusal(self, subject: str) -> bool:
        """True once per window for a caller over the limit: one audit row, not thousands."""
        return self._limiter.hit(_ONCE_A_MINUTE, "refused", subject)

    def waiting(self, subject: str) -> int:
        """How many of the caller's long polls are held open now."""
        return self._polls[subject]

    @asynccontextmanager
    async def long_poll(self, subject: str, *, waiting: bool) -> AsyncIterator[bool]:
        """Hold one of the caller's long-poll slots while a request waits; yields False if
        they have none left. A request that does not wait holds none."""
        if not waiting:
            yield True
            return
        if self._polls[subject] >= self.limits.long_polls_per_caller:
            yield False
            return
        self._polls[subject] += 1
        try:
            yield True
        finally:
            self._polls[subject] -= 1
            if not self._polls[subject]:
                del self._polls[subject]

    async def pad_not_found(self, started: float) -> None:
        """Wait out the rest of the floor for a 'not found' that began at ``started``."""
        left = self.limits.not_found_floor_s - (asyncio.get_running_loop().time() - started)
        if left > 0:
            await asyncio.sleep(left)
