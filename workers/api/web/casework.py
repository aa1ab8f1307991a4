"""The casework: each role's work queues, finding a case by a person, the case page with
the steps this reader may take now, opening a case, and an adult's qualification record.

Each step is a form made from its command model (forms.py) and posted back here; the page
sends it to the API's step route with an idempotency key rendered into the form (a double
submit is one step), then redirects to the case (post/redirect/get). A refusal renders the
page again with the API's message at its field."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from schemas.commands import GrantPermit
from workers.api.access import GRANT_ROLES
from workers.api.auth import Principal
from workers.api.deps import request_model
from workers.api.web import labels
from workers.api.web.forms import (
    Group,
    Input,
    body_from_form,
    inputs_of,
    place_errors,
    problems_of,
    refill,
)
from workers.api.web.reader import Reader, check_csrf, config_of, error_page, reader, render
from workers.projection.queues import QUEUES
from workflows.steps import CASE_STEPS, PERSON_STEPS, Step

router = APIRouter(prefix="/app", include_in_schema=False)


@dataclass
class Refused:
    """A step the API refused: its form as sent, with the messages at their fields."""

    path: str
    form: list[Input | Group]
    summary: list[tuple[str | None, str, str]]


ROW_PERSON = frozenset({"person_id"})
"""A settlement row's person: shown and sent, not typed (one row per member)."""
PAGE_SIZE = 25
"""Rows on a page of a work queue."""
MEMBER_ROWS = 4
"""Blank member rows on the new-case form (a larger household: add members afterwards)."""


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
        return error_page(who, 404)
    filters = {"stage": stage, "deadline": deadline, "sort": sort, "place": place}
    answer = await who.api.get(
        f"/queues/{queue}", {**filters, "cursor": cursor, "limit": PAGE_SIZE}
    )
    problems: list[dict[str, Any]] = []
    page: dict[str, Any] = {"rows": [], "next_cursor": None}
    if answer.status_code == 200:
        page = answer.json()
    elif answer.status_code == 422:
        problems = answer.json()["detail"]
    else:
        return error_page(who, answer.status_code)
    return render(
        who,
        "queue.html",
        queue=queue,
        spec=QUEUES[queue],
        page=page,
        problems=problems,
        filters=filters,
        filters_query=urlencode({k: v for k, v in filters.items() if v}),
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
                    {"person_id": p["person_id"]} for p in members if not p.get("settled_on")
                ]
            }
        out.append(
            (
                step,
                inputs_of(
                    request_model(step.command),
                    municipalities=municipalities,
                    rows=rows,
                    fixed=ROW_PERSON if rows else frozenset(),
                    form=step.path,
                ),
            )
        )
    return out


async def _case_page(
    who: Reader,
    case_id: str,
    *,
    refused: Refused | None = None,
    done: str | None = None,
) -> HTMLResponse:
    answer = await who.api.get(f"/cases/{quote(case_id, safe='')}")
    if answer.status_code != 200:
        return error_page(who, answer.status_code)
    case = answer.json()
    timeline: list[dict[str, Any]] = []
    if case["view"] != "profile":
        events = await who.api.get(f"/cases/{quote(case_id, safe='')}/timeline")
        if events.status_code == 200:
            timeline = events.json()["events"]
    assert who.principal is not None
    actions = _actions(who.principal, case, config_of(who.request).municipalities)
    if refused is not None:
        actions = [(s, refused.form if s.path == refused.path else f) for s, f in actions]
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
        status=422 if refused else 200,
        case=case,
        timeline=timeline,
        actions=actions,
        open_action=refused.path if refused else None,
        summary=refused.summary if refused else [],
        deadlines=deadlines,
        done=done,
        key=str(uuid.uuid4()),
    )


@router.get("/cases/new")
async def new_case_page(request: Request) -> Response:
    who = await reader(request, purpose=True)
    assert who.principal is not None
    if who.principal.role not in GRANT_ROLES:
        return error_page(who, 403)
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
    await check_csrf(who, str(form.get("csrf", "")))
    model = request_model(GrantPermit)
    body = body_from_form(model, form, form.getlist)
    answer = await who.api.post("/cases", body, str(form.get("key", "")) or str(uuid.uuid4()))
    if answer.is_success:
        return RedirectResponse(f"/app/cases/{quote(body['case_id'])}?done=permit", 303)
    if answer.status_code in (403, 404):
        return error_page(who, answer.status_code)
    fields = _new_case_form(who)
    refill(fields, form)
    summary = place_errors(fields, problems_of(answer))
    return _new_case(who, fields, summary, status=answer.status_code)


@router.get("/cases/{case_id}")
async def case_page(
    request: Request, case_id: str, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    who = await reader(request, purpose=True)
    return await _case_page(who, case_id, done=done)


@router.post("/cases/{case_id}/{path}")
async def take_case_step(request: Request, case_id: str, path: str) -> Response:
    return await _take_step(request, CASE_STEPS, "cases", case_id, path, _case_page)


async def _take_step(
    request: Request,
    steps: tuple[Step, ...],
    kind: str,
    target: str,
    path: str,
    page: Callable[..., Awaitable[HTMLResponse]],
) -> Response:
    """Send a step's form to the API (``/<kind>/<target>/<path>``); on success back to the
    page, on a refusal the page again with the form as it was sent and the messages at
    their fields."""
    who = await reader(request, purpose=True)
    form = await request.form()
    await check_csrf(who, str(form.get("csrf", "")))
    step = next((s for s in steps if s.path == path), None)
    if step is None:
        return error_page(who, 404)
    model = request_model(step.command)
    answer = await who.api.post(
        f"/{kind}/{quote(target, safe='')}/{path}",
        body_from_form(model, form, form.getlist),
        str(form.get("key", "")) or str(uuid.uuid4()),
    )
    if answer.is_success:
        return RedirectResponse(f"/app/{kind}/{quote(target)}?done={path}", 303)
    if answer.status_code in (403, 404):
        return error_page(who, answer.status_code)
    rows = _rows_sent(form, step)
    fields = inputs_of(
        model,
        municipalities=config_of(request).municipalities,
        rows=rows,
        fixed=ROW_PERSON if rows else frozenset(),
        form=path,
    )
    refill(fields, form)
    summary = place_errors(fields, problems_of(answer))
    return await page(who, target, refused=Refused(path, fields, summary))


def _rows_sent(form: Any, step: Step) -> dict[str, list[dict[str, Any]]] | None:
    """The settlement rows as they were sent: one per member, their ids fixed."""
    if step.update != "register_settlement":
        return None
    rows: list[dict[str, Any]] = []
    while f"settlements.{len(rows)}.person_id" in form:
        person = form[f"settlements.{len(rows)}.person_id"]
        rows.append({"person_id": person})
    return {"settlements": rows}


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
    refused: Refused | None = None,
    done: str | None = None,
) -> HTMLResponse:
    answer = await who.api.get(f"/persons/{quote(person_id, safe='')}/qualification")
    if answer.status_code != 200:
        return error_page(who, answer.status_code)
    record = answer.json()
    assert who.principal is not None
    actions = [
        (s, inputs_of(request_model(s.command), form=s.path))
        for s in PERSON_STEPS
        if who.principal.role in s.roles
    ]
    if refused is not None:
        actions = [(s, refused.form if s.path == refused.path else f) for s, f in actions]
    return render(
        who,
        "person.html",
        status=422 if refused else 200,
        record=record,
        actions=actions,
        open_action=refused.path if refused else None,
        summary=refused.summary if refused else [],
        done=done,
        key=str(uuid.uuid4()),
        today=datetime.now(UTC).date(),
    )


@router.post("/persons/{person_id}/{path}")
async def take_person_step(request: Request, person_id: str, path: str) -> Response:
    return await _take_step(request, PERSON_STEPS, "persons", person_id, path, _person_page)
