"""Who is reading, and how a page is made for them.

The reader comes from their session (sessions.py): a token, verified on every page as the
API verifies it, and the purpose they gave for reading personal records. A page is a
template rendered in the reader's language (i18n.py) with the navigation of their role.
Reads and steps go to the API in-process (client.py) with the reader's token, so scope,
redaction and audit are the API's."""

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse

from schemas.enums import Role
from workers.api.access import GRANT_ROLES
from workers.api.auth import Principal, Unauthenticated
from workers.api.deps import ApiContext
from workers.api.web import i18n, labels
from workers.api.web.client import Api
from workers.api.web.oidc import Oidc
from workers.api.web.sessions import Sessions, WebSession

log = structlog.get_logger("web")
STATIC = Path(__file__).parent / "static"
LANG_COOKIE = "bosetting_lang"
HOME = {
    Role.RECEPTION: "/app/queues/reception",
    Role.CASEWORKER: "/app/queues/allocation",
    Role.MUNICIPALITY: "/app/queues/inbox",
    Role.OPERATIONS: "/app/figures",
    Role.ADMINISTRATOR: "/app/queues/allocation",
}
QUEUES_OF = {
    Role.RECEPTION: ("reception",),
    Role.CASEWORKER: ("allocation", "reply-overdue", "targets", "breached", "stuck"),
    Role.MUNICIPALITY: ("inbox", "accepted", "qualification"),
    Role.OPERATIONS: ("breached", "stuck"),
    Role.ADMINISTRATOR: ("allocation", "reply-overdue", "targets", "breached", "stuck"),
}
QUEUE_TITLES = {
    "reception": labels.N_("The centre's households"),
    "allocation": labels.N_("Waiting for allocation"),
    "reply-overdue": labels.N_("Replies overdue"),
    "targets": labels.N_("Settlement targets near or passed"),
    "inbox": labels.N_("Inbox: households allocated to us"),
    "accepted": labels.N_("Accepted, awaiting settlement"),
    "qualification": labels.N_("Qualification deadlines"),
    "breached": labels.N_("Settlement target passed"),
    "stuck": labels.N_("No step for a long time"),
}


@dataclass(frozen=True)
class DevSignIn:
    """The development role picker: tokens minted with the embedded stack's key."""

    private_key: Path
    issuer: str
    audience: str


@dataclass
class WebConfig:
    session_ttl: timedelta = timedelta(hours=8)
    dev_sign_in: DevSignIn | None = None
    oidc: Oidc | None = None
    """The organisation's identity provider, when one is configured."""
    municipalities: list[tuple[str, str]] = field(default_factory=list)
    """(number, "number name") of the current structure, for municipality select lists."""


def municipality_options(register: Any, day: date) -> list[tuple[str, str]]:
    """(number, "number name") of the structure in force on ``day``, or of the newest one
    if none covers it."""
    try:
        classification = register.classification_on(day)
    except LookupError:
        classification = register.latest()
    return [
        (m.number, f"{m.number} {m.name}")
        for m in sorted(classification.municipalities.values(), key=lambda m: m.number)
    ]


# -- the reader ---------------------------------------------------------------------------


@dataclass
class Reader:
    request: Request
    locale: str
    web: WebSession | None = None
    principal: Principal | None = None

    @property
    def api(self) -> Api:
        assert self.web is not None
        assert self.web.token is not None
        return Api(self.request.app, self.web.token, self.web.purpose)


class Redirect(Exception):
    def __init__(self, to: str) -> None:
        self.to = to


def config_of(request: Request) -> WebConfig:
    found: WebConfig = getattr(request.app.state, "web", None) or WebConfig()
    return found


def context_of(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.ctx
    return found


def sessions(request: Request) -> Sessions:
    return Sessions(context_of(request).register, config_of(request).session_ttl)


def locale_of(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def reader(request: Request, *, purpose: bool = False) -> Reader:
    """The signed-in reader; sends them to sign in (or to give a purpose) if need be."""
    found = Reader(request, locale_of(request))
    found.web = await sessions(request).find(request)
    if found.web is None or found.web.token is None:
        raise Redirect("/app/sign-in?next=" + quote(here(request)))
    try:
        found.principal = context_of(request).verifier.verify(found.web.token)
    except Unauthenticated:
        raise Redirect("/app/sign-in?expired=1&next=" + quote(here(request))) from None
    if purpose and not found.web.purpose:
        raise Redirect("/app/purpose?next=" + quote(here(request)))
    return found


def render(who: Reader, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    env = i18n.environment(who.locale)
    principal = who.principal
    html = env.get_template(template).render(
        principal=principal,
        csrf=who.web.csrf if who.web else "",
        purpose=who.web.purpose if who.web else None,
        queues=QUEUES_OF.get(principal.role, ()) if principal else (),
        queue_titles=QUEUE_TITLES,
        may_open_cases=principal is not None and principal.role in GRANT_ROLES,
        labels=labels,
        here=here(who.request),
        languages=i18n.LANGUAGE_NAMES,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def safe_next(value: str | None) -> str:
    """Only a path of this app: never another site (an open redirect)."""
    if not value or value == "/app":
        return "/app"
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or not value.startswith(("/app/", "/app?")) or "\\" in value:
        return "/app"
    return value


class FormExpired(Exception):
    """A form without this session's CSRF token: sent from elsewhere, or from before."""


async def check_csrf(who: Reader, sent: str) -> None:
    if who.web is None or not sent or not secrets.compare_digest(sent, who.web.csrf):
        raise FormExpired()


def error_page(who: Reader, status: int) -> HTMLResponse:
    return render(who, "error.html", status=status, status_code=status)
