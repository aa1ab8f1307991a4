"""An adult's qualification record: the municipality's steps
(``POST /persons/{person_id}/<step>``) and the record itself."""

import structlog
from fastapi import APIRouter

from schemas.qualification import QualificationResult, QualificationState
from workers.api.access import RECORD_READERS
from workers.api.audit import record_read
from workers.api.deps import (
    Caller,
    Ctx,
    Guard,
    IdempotencyKey,
    PersonIdPath,
    Purpose,
    add_step,
    keyed,
    person_record_in_scope,
    request_model,
    require,
)
from workers.api.models import ERRORS
from workflows.steps import PERSON_STEPS, Step

log = structlog.get_logger("api")
router = APIRouter()


def _step(step: Step) -> None:
    Body = request_model(step.command)

    async def endpoint(
        person_id: PersonIdPath,
        body: Body,  # type: ignore[valid-type]
        key: IdempotencyKey,
        principal: Caller,
        context: Ctx,
        guard: Guard,
    ) -> QualificationResult:
        require(principal, step.roles, f"{step.path.replace('-', ' ')}")
        await person_record_in_scope(context, guard, principal, person_id)
        cmd = await keyed(
            context, f"persons/{person_id}/{step.path}", step.command, body, principal, key
        )
        result: QualificationResult = await context.qualification.execute(person_id, cmd)
        log.info("step taken", record="qualification", step=step.path)  # never the person
        return result

    add_step(router, step, endpoint, Body, "/persons/{person_id}", "qualification")


for _each in PERSON_STEPS:
    _step(_each)


@router.get("/persons/{person_id}/qualification", tags=["qualification"], responses=ERRORS)
async def read_qualification(
    person_id: PersonIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
) -> QualificationState:
    """An adult's introduction programme and Norwegian training record."""
    require(principal, RECORD_READERS, "read qualification records")
    record = await person_record_in_scope(context, guard, principal, person_id, registered=True)
    await record_read(
        context.register,
        principal,
        action="person.qualification",
        resource=f"person/{person_id}",
        purpose=purpose,
        outcome="granted",
    )
    return record
