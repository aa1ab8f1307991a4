"""The casework web app under ``/app``: server-rendered pages over the API's own routes.

Why server-rendered: casework is lists and forms. Pages that are whole HTML documents work
without a script, with the keyboard and a screen reader as the browser gives them, and need
no build of ours; the forms post and redirect (post/redirect/get). The few enhancements are
HTML's own (``<details>`` for each action, date inputs, select lists).

Who the reader is comes from their session (sessions.py): a token, verified on every page
as the API verifies it. Every read and every step is a call to the API in-process
(client.py) with that token, so scope, redaction and audit are the API's."""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlparse

import structlog
from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from schemas.commands import GrantPermit
from schemas.enums import CaseType, Role
from workers.api.access import GRANT_ROLES
from workers.api.auth import Principal, Unauthenticated, mint
from workers.api.deps import ApiContext, request_model
from workers.api.web import i18n, labels
from workers.api.web.client import Api
from workers.api.web.forms import Group, Input, body_from_form, inputs_of, place_errors
from workers.api.web.oidc import SignInFailed
from workers.api.web.sessions import Sessions, WebSession
from workers.projection.queues import QUEUES
from workflows.steps import CASE_STEPS, PERSON_STEPS, Step

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
MEMBER_ROWS = 4
"""Blank member rows on the new-case form (a larger household: add members afterwards)."""


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
    oidc: Any = None
    """An ``oidc.Oidc`` when the organisation's identity provider is configured."""
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


router = APIRouter(prefix="/app", include_in_schema=False)


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


def _config(request: Request) -> WebConfig:
    found: WebConfig = getattr(request.app.state, "web", None) or WebConfig()
    return found


def _context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.ctx
    return found


def sessions(request: Request) -> Sessions:
    return Sessions(_context(request).register, _config(request).session_ttl)


def _locale(request: Request) -> str:
    return i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def reader(request: Request, *, purpose: bool = False) -> Reader:
    """The signed-in reader; sends them to sign in (or to give a purpose) if need be."""
    found = Reader(request, _locale(request))
    found.web = await sessions(request).find(request)
    if found.web is None or found.web.token is None:
        raise Redirect("/app/sign-in?next=" + quote(_here(request)))
    try:
        found.principal = _context(request).verifier.verify(found.web.token)
    except Unauthenticated:
        raise Redirect("/app/sign-in?expired=1&next=" + quote(_here(request))) from None
    if purpose and not found.web.purpose:
        raise Redirect("/app/purpose?next=" + quote(_here(request)))
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
        here=_here(who.request),
        languages=i18n.LANGUAGE_NAMES,
        **values,
    )
    return HTMLResponse(html, status_code=status)


def _safe_next(value: str | None) -> str:
    """Only a path of this app: never another site (an open redirect)."""
    if not value:
        return "/app"
    parsed = urlparse(value)
    if parsed.scheme or parsed.netloc or not value.startswith("/app") or "\\" in value:
        return "/app"
    return value


class FormExpired(Exception):
    """A form without this session's CSRF token: sent from elsewhere, or from before."""


async def _check_csrf(who: Reader, sent: str) -> None:
    if who.web is None or not sent or not secrets.compare_digest(sent, who.web.csrf):
        raise FormExpired()


def _error_page(who: Reader, status: int) -> HTMLResponse:
    return render(who, "error.html", status=status, status_code=status)


# -- signing in and out -------------------------------------------------------------------


@router.get("")
async def home(request: Request) -> Response:
    who = await reader(request)
    assert who.principal is not None
    return RedirectResponse(HOME[who.principal.role], 303)


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    expired: Annotated[int | None, Query(ge=0, le=1)] = None,
    failed: Annotated[int | None, Query(ge=0, le=1)] = None,
    signed_out: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    config = _config(request)
    provider_sign_out = None
    if signed_out and config.oidc is not None:
        # A link, not a redirect: the page's policy lets forms lead to this site only.
        provider_sign_out = await config.oidc.end_session_url(str(request.url_for("sign_in_page")))
    who = Reader(request, _locale(request))
    who.web = await sessions(request).find(request)
    response = HTMLResponse("")
    if who.web is None:
        who.web = await sessions(request).start(request, response)
    page = render(
        who,
        "sign_in.html",
        next=_safe_next(next),
        dev=config.dev_sign_in is not None,
        oidc=config.oidc is not None,
        roles=[r for r in Role],
        expired=bool(expired),
        failed=bool(failed),
        signed_out=bool(signed_out),
        provider_sign_out=provider_sign_out,
    )
    for name, value in response.headers.items():
        if name == "set-cookie":
            page.headers.append(name, value)
    return page


@router.post("/sign-in/dev")
async def dev_sign_in(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    role: Annotated[Role, Form()],
    subject: Annotated[str, Form(min_length=1, max_length=100)],
    place: Annotated[str, Form(max_length=32)] = "",
    cleared: Annotated[str, Form(max_length=3)] = "",
    next: Annotated[str, Form(max_length=500)] = "/app",
) -> Response:
    config = _config(request)
    if config.dev_sign_in is None:
        raise HTTPException(404, "not found")
    who = Reader(request, _locale(request))
    who.web = await sessions(request).find(request)
    await _check_csrf(who, csrf)
    claims: dict[str, Any] = {"subject": subject, "role": role, "cleared": cleared == "on"}
    if role is Role.RECEPTION:
        claims["reception_centre"] = place or None
    elif role is Role.MUNICIPALITY:
        claims["municipality_number"] = place or None
    try:
        principal = Principal.model_validate(claims)
    except ValueError:
        return render(
            who,
            "sign_in.html",
            status=422,
            next=_safe_next(next),
            dev=True,
            oidc=config.oidc is not None,
            roles=list(Role),
            place_error=True,
            chosen=role.value,
            subject=subject,
        )
    dev = config.dev_sign_in
    token = mint(
        dev.private_key,
        issuer=dev.issuer,
        audience=dev.audience,
        principal=principal,
        ttl_s=int(config.session_ttl.total_seconds()),
    )
    response = RedirectResponse(_safe_next(next), 303)
    await sessions(request).end(who.web, response)
    await sessions(request).start(request, response, token=token)
    return response


@router.get("/sign-in/oidc")
async def oidc_begin(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    oidc = _config(request).oidc
    if oidc is None:
        raise HTTPException(404, "not found")
    try:
        address, pending = await oidc.begin(str(request.url_for("oidc_callback")))
    except SignInFailed:
        return RedirectResponse("/app/sign-in?failed=1", 303)
    response = RedirectResponse(address, 303)
    await sessions(request).start(request, response, pending={**pending, "next": _safe_next(next)})
    return response


@router.get("/sign-in/callback")
async def oidc_callback(
    request: Request,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
    session_state: Annotated[str | None, Query(max_length=500)] = None,
    iss: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    oidc = _config(request).oidc
    if oidc is None:
        raise HTTPException(404, "not found")
    web = await sessions(request).find(request)
    failed = RedirectResponse("/app/sign-in?failed=1", 303)
    if web is None or web.pending is None or error or not code:
        return failed
    try:
        token = await oidc.finish(web.pending, state, code)
        _context(request).verifier.verify(token)
    except (SignInFailed, Unauthenticated) as exc:
        log.warning("sign-in refused", reason=str(exc))
        await sessions(request).end(web, failed)
        return failed
    response = RedirectResponse(_safe_next(web.pending.get("next")), 303)
    await sessions(request).end(web, response)
    await sessions(request).start(request, response, token=token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    who = Reader(request, _locale(request))
    who.web = await sessions(request).find(request)
    await _check_csrf(who, csrf)
    response = RedirectResponse("/app/sign-in?signed_out=1", 303)
    await sessions(request).end(who.web, response)
    return response


@router.get("/language")
async def language(
    request: Request,
    to: Annotated[str, Query(pattern=r"^(nb|en)$")],
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    response = RedirectResponse(_safe_next(next), 303)
    response.set_cookie(LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/purpose")
async def purpose_page(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    who = await reader(request)
    return render(who, "purpose.html", next=_safe_next(next))


@router.post("/purpose")
async def give_purpose(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)],
    purpose: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=500)] = "/app",
) -> Response:
    who = await reader(request)
    await _check_csrf(who, csrf)
    if len(purpose.strip()) < 3:
        return render(who, "purpose.html", status=422, next=_safe_next(next), error=True)
    assert who.web is not None
    await sessions(request).update(who.web, purpose=purpose.strip())
    return RedirectResponse(_safe_next(next), 303)


# -- queues and find-by-person ----------------------------------------------------------


@router.get("/queues/{queue}")
async def queue_page(
    request: Request,
    queue: str,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    deadline: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[str | None, Query(max_length=40)] = None,
    place: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    who = await reader(request, purpose=True)
    if queue not in QUEUES:
        return _error_page(who, 404)
    answer = await who.api.get(
        f"/queues/{queue}",
        {"stage": stage, "deadline": deadline, "sort": sort, "place": place, "cursor": cursor},
    )
    problems: list[dict[str, Any]] = []
    page: dict[str, Any] = {"rows": [], "next_cursor": None}
    if answer.status_code == 200:
        page = answer.json()
    elif answer.status_code == 422:
        problems = answer.json()["detail"]
    else:
        return _error_page(who, answer.status_code)
    spec = QUEUES[queue]
    return render(
        who,
        "queue.html",
        queue=queue,
        spec=spec,
        page=page,
        problems=problems,
        filters={"stage": stage, "deadline": deadline, "sort": sort, "place": place},
        filters_query=urlencode(
            {
                k: v
                for k, v in {
                    "stage": stage,
                    "deadline": deadline,
                    "sort": sort,
                    "place": place,
                }.items()
                if v
            }
        ),
        request_cursor=cursor,
        today=datetime.now(UTC).date(),
    )


@router.get("/find")
async def find_person(
    request: Request, person_id: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    who = await reader(request, purpose=True)
    answer = await who.api.get(f"/persons/{quote(person_id, safe='')}/case")
    if answer.status_code == 200:
        return RedirectResponse(f"/app/cases/{quote(answer.json()['case_id'])}", 303)
    return render(who, "find.html", status=404 if answer.status_code != 422 else 422)


# -- the case page ------------------------------------------------------------------------


def _actions(
    principal: Principal, case: dict[str, Any], municipalities: list[tuple[str, str]]
) -> list[tuple[Step, list[Input | Group]]]:
    """The steps this reader may take now, each with its form."""
    out = []
    members = [p for p in case.get("persons", []) if p.get("person_id")]
    for step in CASE_STEPS:
        if principal.role not in step.roles or case["stage"] not in step.stages:
            continue
        if step.track is not None and step.track.value != case["case_type"]:
            continue
        rows = None
        if step.update == "register_settlement":
            rows = {
                "settlements": [
                    {"person_id": p["person_id"], "_fixed": ("person_id",)}
                    for p in members
                    if not p.get("settled_on")
                ]
            }
        out.append(
            (
                step,
                inputs_of(
                    request_model(step.command),
                    municipalities=municipalities,
                    rows=rows,
                    form=step.path,
                ),
            )
        )
    return out


async def _case_page(
    who: Reader,
    case_id: str,
    *,
    failed: tuple[str, list[Input | Group], list[tuple[str | None, str, str]]] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    answer = await who.api.get(f"/cases/{quote(case_id, safe='')}")
    if answer.status_code != 200:
        return _error_page(who, answer.status_code)
    case = answer.json()
    timeline: list[dict[str, Any]] = []
    if case["view"] != "profile":
        events = await who.api.get(f"/cases/{quote(case_id, safe='')}/timeline")
        if events.status_code == 200:
            timeline = events.json()["events"]
    assert who.principal is not None
    actions = _actions(who.principal, case, _config(who.request).municipalities)
    if failed is not None:
        actions = [(s, failed[1]) if s.path == failed[0] else (s, f) for s, f in actions]
    today = datetime.now(UTC).date()
    deadlines = [
        (name, day, (date.fromisoformat(day) - today).days)
        for name, day in (
            (labels.N_("Settlement target"), case.get("target_date")),
            (labels.N_("Reply due"), case.get("reply_due_on")),
            (labels.N_("Planned settlement"), case.get("planned_settlement_on")),
        )
        if day
    ]
    return render(
        who,
        "case.html",
        status=422 if failed else 200,
        case=case,
        timeline=timeline,
        actions=actions,
        open_action=failed[0] if failed else None,
        summary=failed[2] if failed else [],
        deadlines=deadlines,
        done=done,
        key=str(uuid.uuid4()),
    )


@router.get("/cases/new")
async def new_case_page(request: Request) -> Response:
    who = await reader(request, purpose=True)
    assert who.principal is not None
    if who.principal.role not in GRANT_ROLES:
        return _error_page(who, 403)
    return _new_case(who, _new_case_form(who), [])


def _new_case_form(who: Reader) -> list[Input | Group]:
    assert who.principal is not None
    values: dict[str, Any] = {"case_id": "case-" + uuid.uuid4().hex[:12]}
    return inputs_of(
        request_model(GrantPermit),
        values=values,
        rows={"persons": [{} for _ in range(MEMBER_ROWS)]},
    )


def _new_case(
    who: Reader,
    form: list[Input | Group],
    summary: list[tuple[str | None, str, str]],
    status: int = 200,
) -> HTMLResponse:
    return render(
        who,
        "new_case.html",
        status=status,
        form=form,
        summary=summary,
        key=str(uuid.uuid4()),
    )


@router.post("/cases/new")
async def new_case(request: Request) -> Response:
    who = await reader(request, purpose=True)
    form = await request.form()
    await _check_csrf(who, str(form.get("csrf", "")))
    model = request_model(GrantPermit)
    body = body_from_form(model, form, form.getlist)
    answer = await who.api.post("/cases", body, str(form.get("key", "")) or str(uuid.uuid4()))
    if answer.is_success:
        return RedirectResponse(f"/app/cases/{quote(body['case_id'])}?done=permit", 303)
    if answer.status_code in (403, 404):
        return _error_page(who, answer.status_code)
    fields = _new_case_form(who)
    _refill(fields, form)
    summary = place_errors(fields, _problems(answer))
    return _new_case(who, fields, summary, status=answer.status_code)


@router.get("/cases/{case_id}")
async def case_page(
    request: Request, case_id: str, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    who = await reader(request, purpose=True)
    return await _case_page(who, case_id, done=done)


@router.post("/cases/{case_id}/{path}")
async def take_case_step(request: Request, case_id: str, path: str) -> Response:
    who = await reader(request, purpose=True)
    form = await request.form()
    await _check_csrf(who, str(form.get("csrf", "")))
    step = next((s for s in CASE_STEPS if s.path == path), None)
    if step is None:
        return _error_page(who, 404)
    model = request_model(step.command)
    body = body_from_form(model, form, form.getlist)
    answer = await who.api.post(
        f"/cases/{quote(case_id, safe='')}/{path}",
        body,
        str(form.get("key", "")) or str(uuid.uuid4()),
    )
    if answer.is_success:
        return RedirectResponse(f"/app/cases/{quote(case_id)}?done={path}", 303)
    if answer.status_code in (403, 404):
        return _error_page(who, answer.status_code)
    fields = inputs_of(model, municipalities=_config(request).municipalities, form=path)
    if step.update == "register_settlement":
        fields = _settlement_rows(form, model, path)
    _refill(fields, form)
    summary = place_errors(fields, _problems(answer))
    return await _case_page(who, case_id, failed=(path, fields, summary))


def _settlement_rows(form: Any, model: type[BaseModel], path: str) -> list[Input | Group]:
    rows = []
    i = 0
    while f"settlements.{i}.person_id" in form:
        rows.append({"person_id": form[f"settlements.{i}.person_id"], "_fixed": ("person_id",)})
        i += 1
    return inputs_of(model, rows={"settlements": rows}, form=path)


def _refill(items: list[Input | Group], form: Any) -> None:
    """What the reader typed stays in the form when it is refused."""
    for item in items:
        if isinstance(item, Group):
            _refill(item.inputs, form)
        elif item.kind == "checkboxes":
            item.value = form.getlist(item.name)
        elif item.kind == "checkbox":
            item.value = form.get(item.name) == "on"
        elif item.kind != "fixed":
            item.value = form.get(item.name) or None


def _problems(answer: Any) -> list[dict[str, Any]]:
    """The API's refusal as a list of errors: validation and business rules (422) as they
    are; a step out of order (409) as one error for the whole form."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):
        return detail
    if answer.status_code == 409:
        return [{"loc": [], "msg": "out_of_order", "type": "out_of_order"}]
    return [{"loc": [], "msg": "unavailable", "type": "unavailable"}]


# -- an adult's qualification record ------------------------------------------------------


@router.get("/persons/{person_id}")
async def person_page(
    request: Request, person_id: str, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    who = await reader(request, purpose=True)
    return await _person_page(who, person_id, done=done)


async def _person_page(
    who: Reader,
    person_id: str,
    *,
    failed: tuple[str, list[Input | Group], list[tuple[str | None, str, str]]] | None = None,
    done: str | None = None,
) -> HTMLResponse:
    answer = await who.api.get(f"/persons/{quote(person_id, safe='')}/qualification")
    if answer.status_code != 200:
        return _error_page(who, answer.status_code)
    record = answer.json()
    assert who.principal is not None
    actions = [
        (s, inputs_of(request_model(s.command), form=s.path))
        for s in PERSON_STEPS
        if who.principal.role in s.roles
    ]
    if failed is not None:
        actions = [(s, failed[1]) if s.path == failed[0] else (s, f) for s, f in actions]
    return render(
        who,
        "person.html",
        status=422 if failed else 200,
        record=record,
        actions=actions,
        open_action=failed[0] if failed else None,
        summary=failed[2] if failed else [],
        done=done,
        key=str(uuid.uuid4()),
        today=datetime.now(UTC).date(),
    )


@router.post("/persons/{person_id}/{path}")
async def take_person_step(request: Request, person_id: str, path: str) -> Response:
    who = await reader(request, purpose=True)
    form = await request.form()
    await _check_csrf(who, str(form.get("csrf", "")))
    step = next((s for s in PERSON_STEPS if s.path == path), None)
    if step is None:
        return _error_page(who, 404)
    model = request_model(step.command)
    body = body_from_form(model, form, form.getlist)
    answer = await who.api.post(
        f"/persons/{quote(person_id, safe='')}/{path}",
        body,
        str(form.get("key", "")) or str(uuid.uuid4()),
    )
    if answer.is_success:
        return RedirectResponse(f"/app/persons/{quote(person_id)}?done={path}", 303)
    if answer.status_code in (403, 404):
        return _error_page(who, answer.status_code)
    fields = inputs_of(model, form=path)
    _refill(fields, form)
    summary = place_errors(fields, _problems(answer))
    return await _person_page(who, person_id, failed=(path, fields, summary))


# -- places and figures -------------------------------------------------------------------


@router.get("/places")
async def places_page(
    request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    who = await reader(request)
    year = year or datetime.now(UTC).year
    answer = await who.api.get("/figures/places", {"year": year})
    if answer.status_code != 200:
        return _error_page(who, answer.status_code)
    rows = answer.json()
    assert who.principal is not None
    if who.principal.role is Role.MUNICIPALITY:
        rows = [r for r in rows if r["municipality_number"] == who.principal.municipality_number]
    names = dict(_config(request).municipalities)
    for r in rows:
        r["name"] = names.get(r["municipality_number"], r["municipality_number"])
        r["left"] = max(r["decided"] - r["used"] - r["reserved"], 0)
    return render(who, "places.html", year=year, rows=rows)


@router.get("/figures")
async def figures_page(
    request: Request,
    period: Annotated[str | None, Query(max_length=20)] = None,
    by: Annotated[str, Query(max_length=20)] = "category",
) -> Response:
    who = await reader(request)
    period = period or str(datetime.now(UTC).year - 1)
    answer = await who.api.get("/figures", {"period": period, "by": by})
    problems: list[dict[str, Any]] = []
    report: dict[str, Any] | None = None
    if answer.status_code == 200:
        report = answer.json()
    elif answer.status_code == 422:
        problems = answer.json()["detail"]
    else:
        return _error_page(who, answer.status_code)
    return render(who, "figures.html", period=period, by=by, report=report, problems=problems)


CASE_TYPES = [t.value for t in CaseType]


def install(app: FastAPI, config: WebConfig) -> None:
    """The web app on ``app``: its pages, its stylesheet, and the answers of a reader who
    must sign in first or whose form expired."""
    app.state.web = config
    app.include_router(router)
    app.mount("/app/static", StaticFiles(directory=STATIC), name="web-static")

    async def _redirect(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Redirect)
        return RedirectResponse(exc.to, 303)

    async def _expired(request: Request, exc: Exception) -> Response:
        who = Reader(request, _locale(request))
        return render(who, "error.html", status=403, status_code="expired")

    app.add_exception_handler(Redirect, _redirect)
    app.add_exception_handler(FormExpired, _expired)
