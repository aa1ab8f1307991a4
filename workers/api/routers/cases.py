"""Cases: open one (the permit decision), take each step of the command table
(``POST /cases/{case_id}/<step>``), read it as your role may see it, and read its timeline."""

import json
from typing import Any, cast

import structlog
from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select

from schemas.commands import GrantPermit
from schemas.errors import INVALID_COMMAND, CommandRejected
from schemas.state import CommandResult
from workers.api.access import (
    CASE_READERS,
    GRANT_ROLES,
    CaseView,
    ProfileView,
    case_view,
    hidden_member_named,
    profile_only,
    redact_event_data,
)
from workers.api.audit import record_read
from workers.api.deps import (
    Caller,
    CaseIdPath,
    Ctx,
    Guard,
    IdempotencyKey,
    Purpose,
    add_step,
    authenticated,
    case_in_scope,
    keyed,
    outcome,
    request_model,
    require,
    strictly,
    utc,
)
from workers.api.models import COMMAND_ERRORS, ERRORS, Accepted, Timeline, TimelineEntry
from workers.platform.register import EventLogRow
from workflows.steps import CASE_STEPS, Step

log = structlog.get_logger("api")
router = APIRouter()
GrantBody = request_model(GrantPermit)


@router.post(
    "/cases",
    # The token first: nobody's body is validated before we know who sent it.
    dependencies=[authenticated, Depends(strictly(GrantBody))],
    status_code=status.HTTP_201_CREATED,
    tags=["cases"],
    responses=COMMAND_ERRORS,
    summary="Open a case: the permit decision",
)
async def grant_permit(
    body: GrantBody,  # type: ignore[valid-type]
    key: IdempotencyKey,
    principal: Caller,
    context: Ctx,
) -> Accepted:
    require(principal, GRANT_ROLES, "open a case")
    cmd = cast(GrantPermit, await keyed(context, "cases", GrantPermit, body, principal, key))
    await context.cases.grant_permit(cmd)
    log.info("case opened", case_id=cmd.case_id)
    return Accepted(case_id=cmd.case_id, command_id=cmd.command_id)


def _step(step: Step) -> None:
    Body = request_model(step.command)

    async def endpoint(
        case_id: CaseIdPath,
        body: Body,  # type: ignore[valid-type]
        key: IdempotencyKey,
        principal: Caller,
        context: Ctx,
        guard: Guard,
    ) -> CommandResult:
        require(principal, step.roles, f"{step.path.replace('-', ' ')}")
        state = await case_in_scope(context, guard, principal, case_id)
        cmd = await keyed(
            context, f"cases/{case_id}/{step.path}", step.command, body, principal, key
        )
        if refusal := hidden_member_named(principal, state, cmd):
            raise CommandRejected(refusal, reason=INVALID_COMMAND)
        result: CommandResult = await context.cases.execute(case_id, cmd)
        log.info("step taken", case_id=case_id, step=step.path, stage=result.stage.value)
        return result

    add_step(router, step, endpoint, Body, "/cases/{case_id}", "cases")


for _each in CASE_STEPS:
    _step(_each)


@router.get("/cases/{case_id}", tags=["cases"], responses=ERRORS)
async def read_case(
    case_id: CaseIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
) -> CaseView | ProfileView:
    """The case as your role may see it; the read is audit-logged."""
    require(principal, CASE_READERS, "read cases")
    state = await case_in_scope(context, guard, principal, case_id, registered=True)
    view = case_view(principal, state)
    await record_read(
        context.register,
        principal,
        action="case",
        resource=f"case/{case_id}",
        purpose=purpose,
        outcome=outcome(view.view),
    )
    return view


@router.get("/cases/{case_id}/timeline", tags=["cases"], responses=ERRORS)
async def case_timeline(
    case_id: CaseIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
) -> Timeline:
    """Every event of the case, with when it happened and when it was recorded."""
    require(principal, CASE_READERS, "read cases")
    state = await case_in_scope(context, guard, principal, case_id, registered=True)
    if profile_only(principal, state):
        raise HTTPException(403, "the timeline is shown once the municipality has accepted")
    async with context.register() as session:
        rows = (
            await session.scalars(
                select(EventLogRow)
                .where(EventLogRow.case_id == case_id)
                .order_by(EventLogRow.sequence)
            )
        ).all()
    view = case_view(principal, state).view
    await record_read(
        context.register,
        principal,
        action="case.timeline",
        resource=f"case/{case_id}",
        purpose=purpose,
        outcome=outcome(view),
    )
    return Timeline(
        case_id=case_id,
        view=view,
        events=[
            TimelineEntry(
                sequence=r.sequence,
                type=r.event_type,
                business_date=r.business_date,
                recorded_at=utc(r.recorded_at),
                data=redact_event_data(principal, state, _data(r.payload)),
            )
            for r in rows
        ],
    )


def _data(payload: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload)["data"]
    return data
