"""``bosetting api``: the HTTP API over the Temporal client, the event log and the figures,
assembled from one router per resource (``routers/``).

Every lifecycle step is ``POST /cases/{case_id}/<step>`` (``POST /persons/{person_id}/<step>``
for an adult's qualification record) with a pydantic body and an ``Idempotency-Key`` header;
the steps and who may take each are declared in the command table (workflows/steps.py).
Answers (errors.py):

- 401: no token, or one we do not accept (the message names the claim or rule);
- 403: the role may not do this at all;
- 404: no such case, or one outside the caller's scope (the same answer, so nothing leaks);
- 409: the step is out of order; the body carries the case's current stage;
- 422: bad input, naming the field and the rule, or a business rule the case refused.

Reads of personal records need an ``X-Purpose`` header and are written to the audit log
before they are served."""

from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from workers.api import errors
from workers.api.deps import ApiContext, known_query_only
from workers.api.headers import SecurityHeaders
from workers.api.limits import BodyLimit, CallerLimits, Limits
from workers.api.routers import (
    cases,
    feed,
    figures,
    operations,
    places,
    qualification,
    queues,
)
from workers.api.web.mount import install as install_web
from workers.api.web.reader import WebConfig

_tracer = trace.get_tracer("bosetting.api")
ROUTERS = (operations, cases, qualification, queues, places, feed, figures)


def create_app(
    context: ApiContext | None = None,
    *,
    limits: Limits | None = None,
    web: WebConfig | None = None,
) -> FastAPI:
    """The API over its context (the server builds it before serving, workers/api/server.py;
    tests give theirs), with the casework web app under /app (web/)."""
    limits = limits or Limits()

    # The documentation pages' scripts come from the installed package, never from a CDN.
    app = FastAPIOffline(
        title="Bosetting",
        version="1",
        summary="Settlement cases: every step, each role's view, the official figures.",
        # FastAPI's own telemetry puts the raw path (ids) on its spans and validation input
        # in its logs; our middleware below traces by route template instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.ctx = context
    app.state.guard = CallerLimits(limits)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)  # outermost: first to run
    app.middleware("http")(_traced)
    errors.install(app)
    for module in ROUTERS:
        # The API refuses query parameters an operation does not have; the web app's pages
        # (mounted below), like any site's, ignore what they do not use.
        app.include_router(module.router, dependencies=[Depends(known_query_only)])
    install_web(app, web or WebConfig())
    app.get("/", include_in_schema=False)(_to_the_app)
    return app


async def _to_the_app() -> RedirectResponse:
    return RedirectResponse("/app", 303)


async def _traced(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A server span per request, joining the caller's W3C traceparent. Named by the route's
    template and never the path: paths carry ids."""
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
