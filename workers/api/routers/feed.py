"""The municipality feed: its allocation, withdrawal, settlement and programme events as
CloudEvents, with a cursor and long polling (workers/projection/feed.py writes it)."""

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from schemas.enums import Role
from workers.api.access import FEED_READERS
from workers.api.audit import record_read
from workers.api.deps import Caller, Ctx, Guard, require
from workers.api.models import ERRORS, Feed
from workers.projection.feed import read_feed

router = APIRouter()
POLL_EVERY_S = 0.25


@router.get("/municipalities/{municipality_number}/events", tags=["feed"], responses=ERRORS)
async def municipality_feed(
    municipality_number: Annotated[str, Path(pattern=r"^\d{4}$")],
    principal: Caller,
    context: Ctx,
    guard: Guard,
    after: Annotated[
        int,
        Query(ge=0, le=2**63 - 1, description="The cursor you kept: entries after it (0: all)"),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=30, description="Seconds to wait for a new entry if none")
    ] = 0,
) -> Feed:
    """The municipality's allocation, withdrawal, settlement and programme events as
    CloudEvents (structured JSON), oldest first. Keep ``next_cursor`` and pass it as
    ``after`` next time; with ``wait`` the call holds until something arrives."""
    require(principal, FEED_READERS, "read a municipality feed")
    if principal.role is Role.MUNICIPALITY and principal.municipality_number != municipality_number:
        raise HTTPException(403, "a municipality reads its own feed")
    async with guard.long_poll(principal.subject, waiting=wait > 0) as slot:
        if not slot:
            raise HTTPException(
                429,
                f"at most {guard.limits.long_polls_per_caller} waiting feed requests at "
                "once per caller",
                headers={"Retry-After": "1"},
            )
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            rows = await read_feed(
                context.projection,
                municipality_number,
                after,
                limit,
                cleared=principal.cleared,
            )
            if rows or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(POLL_EVERY_S)
    if rows:  # an empty poll reads nobody's data
        await record_read(
            context.register,
            principal,
            action="municipality.feed",
            resource=f"municipality/{municipality_number}",
            purpose="municipality feed",
            outcome="granted" if principal.cleared else "redacted",
        )
    return Feed(
        municipality_number=municipality_number,
        events=[json.loads(r.cloud_event) for r in rows],
        next_cursor=rows[-1].position if rows else after,
    )
