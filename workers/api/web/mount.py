"""The web app mounted on the API's application: its routers, its stylesheet, and the
answers of a reader who must sign in first or whose form expired."""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from workers.api.web import casework, overview, signin
from workers.api.web.reader import (
    STATIC,
    FormExpired,
    Reader,
    Redirect,
    WebConfig,
    locale_of,
    render,
)


def install(app: FastAPI, config: WebConfig) -> None:
    """The web app on ``app``: its pages, its stylesheet, and the answers of a reader who
    must sign in first or whose form expired."""
    app.state.web = config
    for module in (signin, casework, overview):
        app.include_router(module.router)
    app.mount("/app/static", StaticFiles(directory=STATIC), name="web-static")

    async def _redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Redirect)
        return RedirectResponse(exc.to, 303)

    async def _expired(request: Request, exc: Exception) -> Response:
        who = Reader(request, locale_of(request))
        return render(who, "error.html", status=403, status_code="expired")

    app.add_exception_handler(Redirect, _redirect)
    app.add_exception_handler(FormExpired, _expired)
