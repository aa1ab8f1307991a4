"""How the API answers what goes wrong: a refused command (409 with the stage, or 422), bad
input (422 naming the field and the rule, never echoing the value), Temporal away (503, retry
with the same key), not found (404). Every refusal of a known caller (403, 404, 429) is written
to the audit log before the answer goes out."""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from schemas.errors import INVALID_COMMAND, CaseNotFound, CommandRejected
from workers.api.audit import record_read
from workers.api.auth import Principal

log = structlog.get_logger("api")

ACTIONS = {
    "read_case": "case",
    "case_timeline": "case.timeline",
    "read_qualification": "person.qualification",
    "municipality_feed": "municipality.feed",
    "audit": "audit",
}
"""Audit names of the reads; any other route is named by its method and template."""


def install(app: FastAPI) -> None:
    """Our answers to our errors, on ``app``."""

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
        """Who tried what, on which object, and why they said."""
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


def _named_not_echoed(error: Any) -> dict[str, Any]:
    loc = list(error["loc"])
    if error["type"] == "extra_forbidden":
        return {
            "loc": loc[:-1],
            "msg": "has a field this operation does not have (its name is not repeated)",
            "type": "extra_forbidden",
        }
    return {"loc": loc, "msg": error["msg"], "type": error["type"]}
