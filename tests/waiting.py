"""How the tests wait: for a condition (``eventually``), for a condition to stay true
(``holds``), or for time to pass when the passing of time is what a test is about
(``pause``, with its reason). Nothing in the tests sleeps otherwise."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import pytest

Check = Callable[[], bool | Awaitable[bool]]
EVERY_S = 0.05


async def _holds_now(check: Check) -> bool:
    answer = check()
    return bool(await answer) if inspect.isawaitable(answer) else bool(answer)


async def eventually(check: Check, *, within_s: float, what: str, every_s: float = EVERY_S) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``within_s``."""
    deadline = time.monotonic() + within_s
    while not await _holds_now(check):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within_s:g} s waiting for {what}")
        await asyncio.sleep(every_s)


async def holds(check: Check, *, for_s: float, what: str, every_s: float = EVERY_S) -> None:
    """Poll ``check`` for ``for_s``; fail naming ``what`` the moment it is false."""
    deadline = time.monotonic() + for_s
    while time.monotonic() < deadline:
        if not await _holds_now(check):
            pytest.fail(f"{what} stopped holding")
        await asyncio.sleep(every_s)


async def pause(seconds: float, why: str) -> None:
    """Let time pass on purpose (an outage that lasts, a peer that is slow): ``why`` says
    what the test needs of it."""
    assert why
    await asyncio.sleep(seconds)
