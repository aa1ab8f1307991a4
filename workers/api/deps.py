"""What the routes depend on: the context (the services and databases behind the API), the
caller (a verified token, within its rate limit), the headers and path parameters every
route shares, and the checks each route makes — the role may do this, the object is in the
caller's scope, the command is bound to its idempotency key."""

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Protocol, TypeVar, cast

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.commands import Command, GrantPermit
from schemas.enums import Role
from schemas.errors import CaseNotFound
from schemas.ids import CaseId
from schemas.places import PlacesLedger, RecordPlacesDecision
from schemas.qualification import QualificationResult, QualificationState
from schemas.state import CaseState, CommandResult
from workers.allocation.suggestions import MunicipalityProfile
from workers.api.access import in_scope, person_in_scope
from workers.api.auth import Principal, TokenVerifier, Unauthenticated
from workers.api.case_reads import behind, registered_record, registered_state
from workers.api.idempotency import KeyReused, bind, fingerprint
from workers.api.limits import CallerLimits
from workers.api.models import COMMAND_ERRORS
from workers.figures.periods import parse_day, parse_moment
from workers.figures.report import PlacesOn
from workers.figures.slices import Geography
from workers.platform.tracing import current_traceparent
from workflows.steps import Step

T = TypeVar("T")

# -- the context ------------------------------------------------------------------------------


class CasePort(Protocol):
    """What the API needs of the case service (workers.services.cases.CaseService)."""

    async def grant_permit(self, cmd: GrantPermit) -> None: ...
    async def execute(self, case_id: str, cmd: Command) -> CommandResult: ...
    async def state(self, case_id: str) -> CaseState: ...


class QualificationPort(Protocol):
    async def execute(self, person_id: str, cmd: Command) -> QualificationResult: ...
    async def state(self, person_id: str) -> QualificationState: ...


class PlacesPort(Protocol):
    async def ledgers(self, year: int) -> list[PlacesLedger]: ...
    async def ledger(self, municipality_number: str, year: int) -> PlacesLedger: ...
    async def record_decision(
        self, municipality_number: str, year: int, decision: RecordPlacesDecision
    ) -> PlacesLedger: ...


@dataclass
class ApiContext:
    cases: CasePort
    qualification: QualificationPort
    register: async_sessionmaker[AsyncSession]
    projection: async_sessionmaker[AsyncSession]
    verifier: TokenVerifier
    geography: Geography
    """Where a municipality number belongs on a day (figures by place): the register."""
    places: PlacesPort | None = None
    profiles: dict[str, MunicipalityProfile] | None = None
    """Municipality profiles for the allocation suggestions (from the profiles file setting)."""
    stuck_after: timedelta = timedelta(days=30)
    """An open case with no step for this long is stuck (BOSETTING_MONITOR_STUCK_AFTER)."""
    places_on: PlacesOn = "period_end"
    """Which structure a breakdown by place uses (BOSETTING_FIGURES_PLACES_ON)."""


def _context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.ctx
    return found


def _guard(request: Request) -> CallerLimits:
    found: CallerLimits = request.app.state.guard
    return found


Ctx = Annotated[ApiContext, Depends(_context)]
Guard = Annotated[CallerLimits, Depends(_guard)]

# -- the caller -------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="A signed JWT (see README: tokens).")


def _caller(
    request: Request,
    context: Ctx,
    limiter: Guard,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise unauthenticated("token: an Authorization: Bearer header is required")
    try:
        principal = context.verifier.verify(credentials.credentials)
    except Unauthenticated as exc:
        raise unauthenticated(str(exc)) from None
    structlog.contextvars.bind_contextvars(subject_role=principal.role.value)
    request.state.principal = principal  # for the audit of a refusal (errors.py)
    allowed, retry_after = limiter.allow(principal.subject)
    if not allowed:
        request.state.audit_refusal = limiter.first_refusal(principal.subject)
        raise HTTPException(
            429,
            "too many requests from this caller; slow down",
            headers={"Retry-After": str(retry_after)},
        )
    return principal


authenticated = Depends(_caller)
"""As a route's first dependency: nobody's body is validated before we know who sent it."""
Caller = Annotated[Principal, authenticated]


def unauthenticated(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    """403 unless the caller's role is one of ``roles``."""
    if principal.role not in roles:
        raise HTTPException(403, f"role {principal.role.value!r} may not {what}")


# -- headers, paths and query values ---------------------------------------------------------

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9._:-]{8,100}$",
        description="The caller's key for this command (a UUID is best): the same key sent "
        "again returns the first answer and changes nothing.",
    ),
]
Purpose = Annotated[
    str,
    Header(
        alias="X-Purpose",
        min_length=3,
        max_length=500,
        description="Why you read this record; written to the audit log.",
    ),
]


def _day(value: Any) -> date:
    """A query date as ISO 8601 text only (not a count of seconds), parsed as the CLI does."""
    return parse_day(value if isinstance(value, str) else "")


def _moment(value: Any) -> datetime:
    """A query moment parsed as the CLI parses ``--as-of``: a date alone is the end of that
    day, UTC (workers/figures/periods.py)."""
    return parse_moment(value if isinstance(value, str) else "")


IsoDate = Annotated[date, BeforeValidator(_day)]
IsoMoment = Annotated[datetime, BeforeValidator(_moment)]
CaseIdPath = Annotated[CaseId, Path(description="The case's pseudonymous id.")]
PersonIdPath = Annotated[CaseId, Path(description="The person's pseudonymous id.")]


def invalid(where: str, field: str, msg: str) -> RequestValidationError:
    """A 422 naming the field and the rule."""
    return RequestValidationError([{"loc": (where, field), "msg": msg, "type": "value_error"}])


async def known_query_only(request: Request) -> None:
    """A query parameter the operation does not have is refused: ``?perid=2020`` silently
    ignored would answer a different question than the one asked. (The answer does not echo
    the name: a caller may have sent anything as one.)"""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = {p.alias for p in _query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "is not a parameter of this operation",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def _query_params(dependant: Any) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found


# -- scope ------------------------------------------------------------------------------------


async def case_in_scope(
    context: ApiContext,
    guard: CallerLimits,
    principal: Principal,
    case_id: str,
    *,
    registered: bool = False,
) -> CaseState:
    """The case, or 404 if it does not exist or is outside the caller's scope.
    ``registered``: for a read, the case as the register knows it (case_reads.py), which
    outlives the workflow; a step asks the workflow, which knows its own latest state."""

    async def load() -> CaseState | None:
        if not registered:
            return await context.cases.state(case_id)
        return await fresh(
            lambda: behind(context.projection, context.register, case_id),
            lambda: registered_state(context.projection, context.register, case_id),
            lambda: context.cases.state(case_id),
        )

    return await found_in_scope(guard, load, lambda state: in_scope(principal, state))


async def person_record_in_scope(
    context: ApiContext,
    guard: CallerLimits,
    principal: Principal,
    person_id: str,
    *,
    registered: bool = False,
) -> QualificationState:
    """The record, or 404 as for a case; ``registered`` as for a case."""

    async def load() -> QualificationState | None:
        if not registered:
            return await context.qualification.state(person_id)
        return await fresh(
            lambda: behind(context.projection, context.register, person_id),
            lambda: registered_record(context.projection, person_id),
            lambda: context.qualification.state(person_id),
        )

    return await found_in_scope(guard, load, lambda record: person_in_scope(principal, record))


async def fresh(
    is_behind: Callable[[], Awaitable[bool]],
    read_register: Callable[[], Awaitable[T | None]],
    ask_workflow: Callable[[], Awaitable[T]],
) -> T | None:
    """What the register has, if it is up to date with the event log; else the workflow's
    own state — or, if the workflow is gone, what the register has (case_reads.py).

    The log is compared before the register is read, never after: the register only moves
    forward, so one that had caught up with the log then is caught up when read. (Read first
    and compared after, a batch the projection commits in between makes an old read look
    current: a step just taken would not show.)"""
    if not await is_behind():
        found = await read_register()
        if found is not None:
            return found
    try:
        return await ask_workflow()
    except CaseNotFound:
        return await read_register()


async def found_in_scope(
    guard: CallerLimits,
    load: Callable[[], Awaitable[T | None]],
    allowed: Callable[[T], bool],
) -> T:
    """What ``load`` finds, or 404 when it finds nothing or the caller may not know of it:
    the same answer, after the same time (the refusal's audit row is written by the
    handler)."""
    started = asyncio.get_running_loop().time()
    try:
        found = await load()
    except CaseNotFound:
        found = None
    if found is None or not allowed(found):
        await guard.pad_not_found(started)
        raise HTTPException(404, "not found")
    return found


# -- command bodies ---------------------------------------------------------------------------


SYSTEM_FIELDS = ("command_id", "traceparent", "registered_at")
"""Fields of a command only the system sets: never in a request body or a form."""


def request_model(command: type[BaseModel]) -> type[BaseModel]:
    """The command's body: its fields but the id, which comes from the Idempotency-Key, and
    what only the system sets (the request's trace, an imported step's registration time)."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in SYSTEM_FIELDS
    }
    model: type[BaseModel] = create_model(
        command.__name__ + "Body",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=command.__doc__,
        **fields,
    )
    return model


def strictly(body: type[BaseModel]) -> Callable[[Request], Awaitable[None]]:
    """A dependency that reads the body as strict JSON: the published schema says boolean,
    integer, or a date string, and a body that sends 0, "24" or a number for a date is
    refused (422) rather than coerced."""

    async def check(request: Request) -> None:
        try:
            body.model_validate_json(await request.body(), strict=True)
        except ValidationError as exc:
            raise _in_body(exc) from None

    return check


def _in_body(exc: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [
            {**e, "loc": ("body", *e["loc"])}
            for e in exc.errors(include_url=False, include_context=False)
        ]
    )


M = TypeVar("M", bound=BaseModel)


def _command(command: type[M], body: BaseModel, principal: Principal, key: str) -> M:
    """The command, its id made of the caller and their key, both hashed: two callers' keys
    never meet, and whatever a caller puts in a key never reaches Temporal (the command id
    is the update id). A command that carries a trace gets this request's, for the events
    it records. Model-level rules run here; a broken one is a 422 like any other."""
    caller = hashlib.sha256(principal.subject.encode()).hexdigest()[:12]
    keyed = hashlib.sha256(key.encode()).hexdigest()[:32]
    trace = {"traceparent": current_traceparent()} if "traceparent" in command.model_fields else {}
    try:
        return command(command_id=f"api:{caller}:{keyed}", **trace, **dict(body))
    except ValidationError as exc:
        raise _in_body(exc) from None


async def keyed(
    context: ApiContext,
    target: str,
    command: type[M],
    body: BaseModel,
    principal: Principal,
    key: str,
) -> M:
    """The command, with its key bound to this request: a key first used for another body,
    step or case is refused (422) rather than answered with the first request's result."""
    cmd = _command(command, body, principal, key)
    try:
        command_id = cast(Any, cmd).command_id  # every command model has one
        await bind(context.register, command_id, fingerprint(target, body.model_dump()))
    except KeyReused:
        raise RequestValidationError(
            [
                {
                    "loc": ("header", "Idempotency-Key"),
                    "msg": "was used before for another request; use a new key",
                    "type": "idempotency_key_reused",
                }
            ]
        ) from None
    return cmd


# -- stored values ----------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """A stored moment in UTC (SQLite gives them back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def outcome(view: str) -> str:
    """The audit outcome of serving a view: granted, or how it was narrowed."""
    return {"full": "granted", "operations": "granted"}.get(view, view)


def add_step(
    router: APIRouter, step: Step, endpoint: Any, body: type[BaseModel], under: str, tag: str
) -> None:
    """A step's endpoint at ``<under>/<step.path>``, with its roles in the document
    (``x-roles``), all from the command table (workflows/steps.py). The token is checked
    before the body is validated."""
    router.post(
        f"{under}/{step.path}",
        dependencies=[authenticated, Depends(strictly(body))],
        tags=[tag],
        summary=step.summary,
        description=step.command.__doc__,
        responses=COMMAND_ERRORS,
        name=f"{tag}_{step.path.replace('-', '_')}",
        openapi_extra={"x-roles": sorted(r.value for r in step.roles)},
    )(endpoint)
