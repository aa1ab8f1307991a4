"""``bosetting api``: the HTTP API over the Temporal client, the event log and the figures.

Every lifecycle step is ``POST /cases/{case_id}/<step>`` (``POST /persons/{person_id}/<step>``
for an adult's qualification record) with a pydantic body and an ``Idempotency-Key`` header;
the step table and who may take each step are in ``access.py``. Answers:

- 401: no token, or one we do not accept (the message names the claim or rule);
- 403: the role may not do this at all;
- 404: no such case, or one outside the caller's scope (the same answer, so nothing leaks);
- 409: the step is out of order; the body carries the case's current stage;
- 422: bad input, naming the field and the rule, or a business rule the case refused.

Reads of personal records need an ``X-Purpose`` header and are written to the audit log
before they are served."""

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Protocol, cast, get_args

import structlog
from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from schemas.commands import Command, GrantPermit
from schemas.enums import Role
from schemas.errors import INVALID_COMMAND, CaseNotFound, CommandRejected
from schemas.ids import CaseId
from schemas.places import PlacesLedger
from schemas.qualification import QualificationResult, QualificationState
from schemas.state import CaseState, CommandResult
from workers.api.access import (
    AUDIT_READERS,
    CASE_READERS,
    FEED_READERS,
    FIGURE_READERS,
    GRANT_ROLES,
    RECORD_READERS,
    STATUS_READERS,
    CaseView,
    ProfileView,
    case_view,
    hidden_member_named,
    in_scope,
    person_in_scope,
    places_view,
    profile_only,
    redact_event_data,
)
from workers.api.audit import reads_of, record_read
from workers.api.auth import Principal, TokenVerifier, Unauthenticated
from workers.api.headers import SecurityHeaders
from workers.api.idempotency import KeyReused, bind, fingerprint
from workers.api.limits import BodyLimit, CallerLimits, Limits
from workers.figures.periods import BadValue, parse_day, parse_moment, parse_period
from workers.figures.slices import BREAKDOWNS
from workers.platform.register import EventLogRow
from workers.platform.tracing import current_traceparent
from workers.projection.feed import read_feed
from workflows.steps import CASE_STEPS, PERSON_STEPS, Step

log = structlog.get_logger("api")
_tracer = trace.get_tracer("bosetting.api")


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


DASHBOARD = FilePath(__file__).parent / "dashboard.html"


@dataclass
class ApiContext:
    cases: CasePort
    qualification: QualificationPort
    register: async_sessionmaker[AsyncSession]
    projection: async_sessionmaker[AsyncSession]
    verifier: TokenVerifier
    county_of: Callable[[str, date], str]
    places: PlacesPort | None = None


# -- request and response models ----------------------------------------------------------

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


class Accepted(BaseModel):
    case_id: str
    command_id: str


class Conflict(BaseModel):
    detail: str
    stage: str | None


class Problem(BaseModel):
    detail: str


class TimelineEntry(BaseModel):
    sequence: int
    type: str
    business_date: date
    """When it happened."""
    recorded_at: datetime
    """When the system learned of it."""
    data: dict[str, Any]


class Timeline(BaseModel):
    case_id: str
    view: str
    events: list[TimelineEntry]


class AuditEntry(BaseModel):
    at: datetime
    subject: str
    role: str
    scope: str | None
    action: str
    resource: str
    purpose: str
    outcome: str


class Feed(BaseModel):
    municipality_number: str
    events: list[dict[str, Any]]
    """CloudEvents 1.0 in structured JSON mode."""
    next_cursor: int


class Health(BaseModel):
    status: str


def request_model(command: type[Command]) -> type[BaseModel]:
    """The command's body: its fields but the id, which comes from the Idempotency-Key."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in ("command_id", "traceparent")
    }
    model: type[BaseModel] = create_model(
        command.__name__ + "Body",
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=command.__doc__,
        **fields,
    )
    return model


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


def strictly(body: type[BaseModel]) -> Callable[[Request], Awaitable[None]]:
    """A dependency that reads the body as strict JSON: the published schema says boolean,
    integer, or a date string, and a body that sends 0, "24" or a number for a date is
    refused (422) rather than coerced."""

    async def check(request: Request) -> None:
        try:
            body.model_validate_json(await request.body(), strict=True)
        except ValidationError as exc:
            raise RequestValidationError(
                [
                    {**e, "loc": ("body", *e["loc"])}
                    for e in exc.errors(include_url=False, include_context=False)
                ]
            ) from None

    return check


ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Temporal is unavailable: retry, same key"},
    401: {"model": Problem, "description": "No token, or one that is not accepted"},
    403: {"model": Problem, "description": "The role may not do this"},
    404: {"model": Problem, "description": "No such case in your scope"},
    413: {"model": Problem, "description": "The body is larger than the limit"},
    429: {"model": Problem, "description": "Too many requests from this caller: see Retry-After"},
}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": Problem, "description": "The body is not JSON"},
    409: {"model": Conflict, "description": "Out of order: the case's stage does not allow it"},
}


# -- the app --------------------------------------------------------------------------------


def create_app(
    context: ApiContext | None = None,
    *,
    lifespan_context: Callable[[], Awaitable[tuple[ApiContext, Callable[[], Awaitable[None]]]]]
    | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The API over a ready context (tests), or over one the lifespan builds (the server)."""
    limits = limits or Limits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        close: Callable[[], Awaitable[None]] | None = None
        if context is None and lifespan_context is not None:
            app.state.ctx, close = await lifespan_context()
        else:
            app.state.ctx = context
        try:
            yield
        finally:
            if close is not None:
                await close()

    # The documentation pages' scripts come from the installed package, never from a CDN.
    app = FastAPIOffline(
        title="Bosetting",
        version="1",
        summary="Settlement cases: every step, each role's view, the official figures.",
        lifespan=lifespan,
        dependencies=[Depends(known_query_only)],
        # FastAPI's own telemetry puts the raw path (ids) on its spans and validation input
        # in its logs; our middleware below traces by route template instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.ctx = context
    app.state.guard = CallerLimits(limits)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)  # outermost: first to run

    @app.middleware("http")
    async def traced(request: Request, call_next: Callable[[Request], Awaitable[Response]]):  # type: ignore[no-untyped-def]
        """A server span per request, joining the caller's W3C traceparent. Named by the
        route's template and never the path: paths carry ids."""
        parent = TraceContextTextMapPropagator().extract(dict(request.headers))
        with _tracer.start_as_current_span(
            f"HTTP {request.method}", context=parent, kind=SpanKind.SERVER
        ) as span:
            response = await call_next(request)
            route = request.scope.get("route")
            template = getattr(route, "path_format", None)
            if template:
                span.update_name(f"{request.method} {template}")
                span.set_attribute("http.route", template)
            span.set_attribute("http.request.method", request.method)
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    bearer = HTTPBearer(auto_error=False, description="A signed JWT (see README: tokens).")

    def ctx(request: Request) -> ApiContext:
        found: ApiContext = request.app.state.ctx
        return found

    Ctx = Annotated[ApiContext, Depends(ctx)]

    def guard(request: Request) -> CallerLimits:
        found: CallerLimits = request.app.state.guard
        return found

    Guard = Annotated[CallerLimits, Depends(guard)]

    def caller(
        request: Request,
        context: Ctx,
        limiter: Guard,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise _unauthenticated("token: an Authorization: Bearer header is required")
        try:
            principal = context.verifier.verify(credentials.credentials)
        except Unauthenticated as exc:
            raise _unauthenticated(str(exc)) from None
        structlog.contextvars.bind_contextvars(subject_role=principal.role.value)
        request.state.principal = principal  # for the audit of a refusal (_audited_refusal)
        allowed, retry_after = limiter.allow(principal.subject)
        if not allowed:
            request.state.audit_refusal = limiter.first_refusal(principal.subject)
            raise HTTPException(
                429,
                "too many requests from this caller; slow down",
                headers={"Retry-After": str(retry_after)},
            )
        return principal

    authenticated = Depends(caller)
    Caller = Annotated[Principal, authenticated]

    @app.exception_handler(CommandRejected)
    async def _rejected(request: Request, exc: CommandRejected) -> JSONResponse:
        if exc.reason == INVALID_COMMAND:
            return JSONResponse(
                status_code=422,
                content={"detail": [{"loc": ["body"], "msg": str(exc), "type": "business_rule"}]},
            )
        stage = exc.stage.value if exc.stage else None
        return JSONResponse(status_code=409, content={"detail": str(exc), "stage": stage})

    @app.exception_handler(RequestValidationError)
    async def _invalid_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the field and the rule; never echo the value back (it may be an identity
        # number typed into the wrong field, and error bodies end up in logs). A field we do
        # not know is the caller's text too: it is named by where it was, not what.
        return JSONResponse(
            status_code=422,
            content={"detail": [_named_not_echoed(e) for e in exc.errors()]},
        )

    @app.exception_handler(RPCError)
    async def _temporal_unavailable(request: Request, exc: RPCError) -> JSONResponse:
        log.warning("temporal call failed", status=exc.status.name if exc.status else None)
        return JSONResponse(
            status_code=503,
            content={"detail": "the case service is unavailable; retry with the same key"},
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(CaseNotFound)
    async def _not_found(request: Request, exc: CaseNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": "not found"})

    @app.exception_handler(StarletteHTTPException)
    async def _audited_refusal(request: Request, exc: StarletteHTTPException) -> Response:
        """Every refusal of a known caller (403, 404, 429) is in the audit log, written
        before the answer goes out: who tried what, on which object, and why they said."""
        principal: Principal | None = getattr(request.state, "principal", None)
        refused = exc.status_code in (403, 404, 429)
        if principal is not None and refused and getattr(request.state, "audit_refusal", True):
            await record_read(
                request.app.state.ctx.register,
                principal,
                action=_action(request),
                resource=_resource(request),
                purpose=request.headers.get("X-Purpose", "-")[:500],
                outcome="rate-limited" if exc.status_code == 429 else "refused",
            )
        return await http_exception_handler(request, exc)

    # -- health ----------------------------------------------------------------------------

    @app.get("/health", tags=["operations"])
    async def health() -> Health:
        """Liveness: the API process answers. No token needed."""
        return Health(status="ok")

    # -- commands --------------------------------------------------------------------------

    grant_body = request_model(GrantPermit)

    @app.post(
        "/cases",
        # The token first: nobody's body is validated before we know who sent it.
        dependencies=[authenticated, Depends(strictly(grant_body))],
        status_code=status.HTTP_201_CREATED,
        tags=["cases"],
        responses=COMMAND_ERRORS,
        summary="Open a case: the permit decision",
    )
    async def grant_permit(
        body: grant_body,  # type: ignore[valid-type]
        key: IdempotencyKey,
        principal: Caller,
        context: Ctx,
    ) -> Accepted:
        _require(principal, GRANT_ROLES, "open a case")
        cmd = cast(GrantPermit, await _keyed(context, "cases", GrantPermit, body, principal, key))
        await context.cases.grant_permit(cmd)
        log.info("case opened", case_id=cmd.case_id)
        return Accepted(case_id=cmd.case_id, command_id=cmd.command_id)

    for step in CASE_STEPS:
        _add_case_step(app, step, Caller, Ctx, Guard)
    for step in PERSON_STEPS:
        _add_person_step(app, step, Caller, Ctx, Guard)

    # -- reads -----------------------------------------------------------------------------

    @app.get("/cases/{case_id}", tags=["cases"], responses=ERRORS)
    async def read_case(
        case_id: CaseIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
    ) -> CaseView | ProfileView:
        """The case as your role may see it; the read is audit-logged."""
        _require(principal, CASE_READERS, "read cases")
        state = await _case_in_scope(context, guard, principal, case_id)
        view = case_view(principal, state)
        await record_read(
            context.register,
            principal,
            action="case",
            resource=f"case/{case_id}",
            purpose=purpose,
            outcome=_outcome(view.view),
        )
        return view

    @app.get("/cases/{case_id}/timeline", tags=["cases"], responses=ERRORS)
    async def case_timeline(
        case_id: CaseIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
    ) -> Timeline:
        """Every event of the case, with when it happened and when it was recorded."""
        _require(principal, CASE_READERS, "read cases")
        state = await _case_in_scope(context, guard, principal, case_id)
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
            outcome=_outcome(view),
        )
        return Timeline(
            case_id=case_id,
            view=view,
            events=[
                TimelineEntry(
                    sequence=r.sequence,
                    type=r.event_type,
                    business_date=r.business_date,
                    recorded_at=_utc(r.recorded_at),
                    data=redact_event_data(principal, state, _data(r.payload)),
                )
                for r in rows
            ],
        )

    @app.get("/persons/{person_id}/qualification", tags=["qualification"], responses=ERRORS)
    async def read_qualification(
        person_id: PersonIdPath, purpose: Purpose, principal: Caller, context: Ctx, guard: Guard
    ) -> QualificationState:
        """An adult's introduction programme and Norwegian training record."""
        _require(principal, RECORD_READERS, "read qualification records")
        record = await _person_in_scope(context, guard, principal, person_id)
        await record_read(
            context.register,
            principal,
            action="person.qualification",
            resource=f"person/{person_id}",
            purpose=purpose,
            outcome="granted",
        )
        return record

    @app.get("/audit", tags=["operations"], responses=ERRORS)
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
        _require(principal, AUDIT_READERS, "read the audit log")
        await record_read(
            context.register,
            principal,
            action="audit",
            resource=resource,
            purpose=purpose,
            outcome="granted",
        )
        return [
            AuditEntry.model_validate(r, from_attributes=True).model_copy(update={"at": _utc(r.at)})
            for r in await reads_of(context.register, resource)
        ]

    # -- the municipality feed ---------------------------------------------------------------

    @app.get("/municipalities/{municipality_number}/events", tags=["feed"], responses=ERRORS)
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
        _require(principal, FEED_READERS, "read a municipality feed")
        if (
            principal.role is Role.MUNICIPALITY
            and principal.municipality_number != municipality_number
        ):
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
                await asyncio.sleep(0.25)
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

    # -- figures ---------------------------------------------------------------------------

    @app.get("/figures", tags=["figures"], responses=ERRORS)
    async def figures(
        principal: Caller,
        context: Ctx,
        period: Annotated[
            str,
            Query(description="2020, 2020-Q3, 2020-07, or 12m:2020-12 (rolling twelve months)"),
        ],
        by: Annotated[
            str,
            Query(
                description="category, case_type, municipality, county, reception_centre or "
                "settled_by"
            ),
        ] = "category",
        as_of: Annotated[
            IsoMoment | None,
            Query(
                description="The figures as known at this moment: ISO 8601; a date alone "
                "means the end of that day, UTC, as `--as-of` does"
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The waiting-time figures and steering parameters of a period, as `bosetting
        metrics --json` prints them. No personal data; protected persons in totals only."""
        from workers.figures.documents import report_json
        from workers.figures.queries import waiting_time

        _require(principal, FIGURE_READERS, "read figures")
        try:
            first, last = parse_period(period)
        except BadValue as exc:
            raise _invalid("query", "period", str(exc)) from None
        if by not in BREAKDOWNS:
            raise _invalid("query", "by", f"must be one of {', '.join(BREAKDOWNS)}")
        report = await waiting_time(
            context.projection,
            first,
            last,
            by=by,
            as_of=as_of,
            county_of=context.county_of,
        )
        return report_json(report)

    @app.get("/figures/waiting", tags=["figures"], responses=ERRORS)
    async def waiting(
        principal: Caller,
        context: Ctx,
        on: Annotated[IsoDate | None, Query(description="Reference day (default today)")] = None,
        as_of: Annotated[
            IsoMoment | None,
            Query(description="As known at this moment (a date alone: the end of that day, UTC)"),
        ] = None,
    ) -> dict[str, Any]:
        """Who is waiting on a day: settlement-ready persons in reception (K8), their median
        wait (K9), and resettlement refugees waiting abroad."""
        from workers.figures.documents import stock_json
        from workers.figures.queries import waiting_on

        _require(principal, FIGURE_READERS, "read figures")
        stock = await waiting_on(context.projection, on or datetime.now(UTC).date(), as_of=as_of)
        return stock_json(stock)

    @app.get("/figures/trend", tags=["figures"], responses=ERRORS)
    async def trend(
        principal: Caller,
        context: Ctx,
        year: Annotated[int, Query(ge=2000, le=2100, description="Calendar year")],
    ) -> list[dict[str, Any]]:
        """Month by month of a year: persons settled, and the shares settled within 3, 6
        and 12 months of their permit (all refugees)."""
        from workers.figures.queries import waiting_time

        _require(principal, FIGURE_READERS, "read figures")
        months = []
        for month in range(1, 13):
            first, last = parse_period(f"{year}-{month:02d}")
            report = await waiting_time(context.projection, first, last)
            total = report.group("total")
            months.append(
                {
                    "month": f"{year}-{month:02d}",
                    "settled": total.settled,
                    "share_within_3_months": total.share(3),
                    "share_within_6_months": total.share(6),
                    "share_within_12_months": total.share(12),
                }
            )
        return months

    @app.get("/figures/places", tags=["figures"], responses=ERRORS)
    async def places(
        principal: Caller,
        context: Ctx,
        year: Annotated[int, Query(ge=2000, le=2100, description="Calendar year")],
    ) -> list[dict[str, Any]]:
        """Places per municipality: requested, decided by the council, used and reserved.
        Without clearance, the places of households with a protected-identity member are in
        no municipality's count, as in the waiting-time figures (see the README's security
        model)."""
        _require(principal, FIGURE_READERS, "read figures")
        if context.places is None:
            return []
        ledgers = [places_view(principal, ledger) for ledger in await context.places.ledgers(year)]
        return [
            {
                "municipality_number": ledger.municipality_number,
                "requested": ledger.decision.requested if ledger.decision else 0,
                "decided": ledger.decision.decided if ledger.decision else 0,
                "used": ledger.used,
                "reserved": ledger.reserved,
            }
            for ledger in sorted(ledgers, key=lambda ledger: ledger.municipality_number)
        ]

    @app.get("/dashboard", tags=["figures"], response_class=HTMLResponse)
    async def dashboard(
        year: Annotated[
            int | None, Query(ge=2000, le=2100, description="The year shown first")
        ] = None,
    ) -> HTMLResponse:
        """The live dashboard. The page holds no data; it asks the figures endpoints with the
        token you give it (any role may read figures) and refreshes every few seconds."""
        return HTMLResponse(DASHBOARD.read_text())

    @app.get("/status/projection", tags=["operations"], responses=ERRORS)
    async def projection_state(principal: Caller, context: Ctx) -> dict[str, Any]:
        """How far the projection has read: applied events, dead letters, and each consumer
        group's lag (the figures' and the municipality feed's) as it stored it with its last
        batch, and when that was: a stopped group's lag stays put while its last batch ages
        (`bosetting status` measures lag against the topic itself)."""
        from workers.figures.queries import projection_status

        _require(principal, STATUS_READERS, "read the projection's status")
        s = await projection_status(context.projection)
        return {
            "applied_events": s.applied_events,
            "settled_persons": s.settled_persons,
            "dead_letters": s.dead_letters,
            "lag": s.lag,
            "last_batch_at": {group: at.isoformat() for group, at in s.last_batch_at.items()},
        }

    return app


def _add_case_step(app: FastAPI, step: Step, Caller: Any, Ctx: Any, Guard: Any) -> None:
    Body = request_model(step.command)

    async def endpoint(
        case_id: CaseIdPath,
        body: Body,  # type: ignore[valid-type]
        key: IdempotencyKey,
        principal: Caller,
        context: Ctx,
        guard: Guard,
    ) -> CommandResult:
        _require(principal, step.roles, f"{step.path.replace('-', ' ')}")
        state = await _case_in_scope(context, guard, principal, case_id)
        cmd = await _keyed(
            context, f"cases/{case_id}/{step.path}", step.command, body, principal, key
        )
        if refusal := hidden_member_named(principal, state, cmd):
            raise CommandRejected(refusal, reason=INVALID_COMMAND)
        result: CommandResult = await context.cases.execute(case_id, cmd)
        log.info("step taken", case_id=case_id, step=step.path, stage=result.stage.value)
        return result

    _register(app, step, Body, endpoint, "/cases/{case_id}", "cases", Caller)


def _add_person_step(app: FastAPI, step: Step, Caller: Any, Ctx: Any, Guard: Any) -> None:
    Body = request_model(step.command)

    async def endpoint(
        person_id: PersonIdPath,
        body: Body,  # type: ignore[valid-type]
        key: IdempotencyKey,
        principal: Caller,
        context: Ctx,
        guard: Guard,
    ) -> QualificationResult:
        _require(principal, step.roles, f"{step.path.replace('-', ' ')}")
        await _person_in_scope(context, guard, principal, person_id)
        cmd = await _keyed(
            context, f"persons/{person_id}/{step.path}", step.command, body, principal, key
        )
        result: QualificationResult = await context.qualification.execute(person_id, cmd)
        log.info("step taken", record="qualification", step=step.path)  # never the person
        return result

    _register(app, step, Body, endpoint, "/persons/{person_id}", "qualification", Caller)


def _register(
    app: FastAPI,
    step: Step,
    body: type[BaseModel],
    endpoint: Any,
    under: str,
    tag: str,
    Caller: Any,
) -> None:
    """A step's endpoint at ``<under>/<step.path>``, its roles in the document (x-roles).
    The token is checked before the body is validated."""
    app.post(
        f"{under}/{step.path}",
        dependencies=[get_args(Caller)[1], Depends(strictly(body))],
        tags=[tag],
        summary=step.summary,
        description=step.command.__doc__,
        responses=COMMAND_ERRORS,
        name=f"{tag}_{step.path.replace('-', '_')}",
        openapi_extra={"x-roles": sorted(r.value for r in step.roles)},
    )(endpoint)


# -- helpers --------------------------------------------------------------------------------


def _require(principal: Principal, roles: frozenset[Role], what: str) -> None:
    if principal.role not in roles:
        raise HTTPException(403, f"role {principal.role.value!r} may not {what}")


async def _case_in_scope(
    context: ApiContext, guard: CallerLimits, principal: Principal, case_id: str
) -> CaseState:
    """The case, or 404 if it does not exist or is outside the caller's scope: the same
    answer, after the same time (the refusal's audit row is written by the handler)."""
    started = asyncio.get_running_loop().time()
    try:
        state = await context.cases.state(case_id)
    except CaseNotFound:
        state = None
    if state is None or not in_scope(principal, state):
        await guard.pad_not_found(started)
        raise HTTPException(404, "not found")
    return state


async def _person_in_scope(
    context: ApiContext, guard: CallerLimits, principal: Principal, person_id: str
) -> QualificationState:
    """The record, or 404 as for a case."""
    started = asyncio.get_running_loop().time()
    try:
        record = await context.qualification.state(person_id)
    except CaseNotFound:
        record = None
    if record is None or not person_in_scope(principal, record):
        await guard.pad_not_found(started)
        raise HTTPException(404, "not found")
    return record


ACTIONS = {
    "read_case": "case",
    "case_timeline": "case.timeline",
    "read_qualification": "person.qualification",
    "municipality_feed": "municipality.feed",
    "audit": "audit",
}
"""Audit names of the reads; any other route is named by its method and template."""


def _action(request: Request) -> str:
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    if name in ACTIONS:
        return ACTIONS[name]
    return f"{request.method} {getattr(route, 'path_format', request.url.path)}"[:64]


def _resource(request: Request) -> str:
    """The object a request is about, as the audit log names it."""
    params = request.path_params
    if "case_id" in params:
        return f"case/{params['case_id']}"[:200]
    if "person_id" in params:
        return f"person/{params['person_id']}"[:200]
    if "municipality_number" in params:
        return f"municipality/{params['municipality_number']}"[:200]
    route = request.scope.get("route")
    return str(getattr(route, "path_format", "-"))[:200]


def _outcome(view: str) -> str:
    return {"full": "granted"}.get(view, view)


def _command(command: type[Command], body: BaseModel, principal: Principal, key: str) -> Command:
    """The command, its id made of the caller and their key, both hashed: two callers' keys
    never meet, and whatever a caller puts in a key never reaches Temporal (the command id
    is the update id). It carries this request's trace to the events it records. Model-level
    rules run here; a broken one is a 422 like any other."""
    caller = hashlib.sha256(principal.subject.encode()).hexdigest()[:12]
    keyed = hashlib.sha256(key.encode()).hexdigest()[:32]
    try:
        return command(
            command_id=f"api:{caller}:{keyed}", traceparent=current_traceparent(), **dict(body)
        )
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in exc.errors(include_url=False, include_context=False)
            ]
        ) from None


async def _keyed(
    context: ApiContext,
    target: str,
    command: type[Command],
    body: BaseModel,
    principal: Principal,
    key: str,
) -> Command:
    """The command, with its key bound to this request: a key first used for another body,
    step or case is refused (422) rather than answered with the first request's result."""
    cmd = _command(command, body, principal, key)
    try:
        await bind(context.register, cmd.command_id, fingerprint(target, body.model_dump()))
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


def _named_not_echoed(error: Any) -> dict[str, Any]:
    loc = list(error["loc"])
    if error["type"] == "extra_forbidden":
        return {
            "loc": loc[:-1],
            "msg": "has a field this operation does not have (its name is not repeated)",
            "type": "extra_forbidden",
        }
    return {"loc": loc, "msg": error["msg"], "type": error["type"]}


def _invalid(where: str, field: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": (where, field), "msg": msg, "type": "value_error"}])


def _unauthenticated(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _utc(moment: datetime) -> datetime:
    """A stored moment in UTC (SQLite gives them back without their zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _data(payload: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(payload)["data"]
    return data
