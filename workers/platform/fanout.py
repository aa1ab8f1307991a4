"""Bounded fan-out: many independent commands at once, never too many in flight."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def for_each(
    items: Iterable[T],
    action: Callable[[T], Awaitable[None]],
    *,
    concurrency: int = 16,
    on_done: Callable[[], None] = lambda: None,
) -> None:
    """Run ``action`` over the items with at most ``concurrency`` in flight, calling
    ``on_done`` after each (for a progress bar)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: T) -> None:
        async with gate:
            await action(item)
        on_done()

    await asyncio.gather(*(one(item) for item in items))
