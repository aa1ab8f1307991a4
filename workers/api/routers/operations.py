"""Operations: liveness, the projection's progress, and who read a record (the audit log)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from workers.api.access import AUDIT_READERS, STATUS_READERS
from workers.api.audit import reads_of, record_read
from workers.api.deps import Caller, Ctx, Purpose, require, utc
from workers.api.models import ERRORS, AuditEntry, Health
from workers.figures.queries import projection_status

router = APIRouter()


@router.get("/health", tags=["operations"])
async def health() -> Health:
    """Liveness: the API process answers. No token needed."""
    return Health(status="ok")


@router.get("/audit", tags=["operations"], responses=ERRORS)
async def audit(
    principal: Caller,
    context: Ctx,
    purpose: Purpose,
    resource: Annotated[
        str,
        Query(
            pattern=r"^(case|person)/[A-Za-z][A-Za-z0-9_-]{3,63}$",
            description="case/<id> or person/<id>",
        ),
    ],
) -> list[AuditEntry]:
    """Who read a record, when and why (administrators). Reading it is audited too."""
    require(principal, AUDIT_READERS, "read the audit log")
    await record_read(
        context.register,
        principal,
        action="audit",
        resource=resource,
        purpose=purpose,
        outcome="granted",
    )
    return [
        AuditEntry.model_validate(r, from_attributes=True).model_copy(update={"at": utc(r.at)})
        for r in await reads_of(context.register, resource)
    ]


@router.get("/status/projection", tags=["operations"], responses=ERRORS)
async def projection_state(principal: Caller, context: Ctx) -> dict[str, Any]:
    """How far the projection has read: applied events, dead letters, and each consumer
    group's lag (the figures' and the municipality feed's) as it stored it with its last
    batch, and when that was: a stopped group's lag stays put while its last batch ages
    (`bosetting status` measures lag against the topic itself)."""
    require(principal, STATUS_READERS, "read the projection's status")
    s = await projection_status(context.projection)
    return {
        "applied_events": s.applied_events,
        "settled_persons": s.settled_persons,
        "dead_letters": s.dead_letters,
        "lag": s.lag,
        "last_batch_at": {group: at.isoformat() for group, at in s.last_batch_at.items()},
    }
