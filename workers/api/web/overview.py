"""The overviews in the same look and language: a municipality-year's places, where the
council's decision is recorded (by the municipality, its own; by the directorate, any), and
the waiting-time figures."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from schemas.enums import Role
from schemas.places import RecordPlacesDecision
from workers.api.access import PLACES_DECIDERS
from workers.api.deps import request_model
from workers.api.web.forms import (
    Group,
    Input,
    body_from_form,
    inputs_of,
    place_errors,
    problems_of,
    refill,
)
from workers.api.web.labels import FIELDS
from workers.api.web.reader import Reader, check_csrf, config_of, error_page, reader, render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/places")
async def places_page(
    request: Request,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    done: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    who = await reader(request)
    return await _places(who, year or datetime.now(UTC).year, done=bool(done))


async def _places(
    who: Reader,
    year: int,
    *,
    form: list[Input | Group] | None = None,
    summary: list[tuple[str | None, str, str]] | None = None,
    done: bool = False,
) -> HTMLResponse:
    answer = await who.api.get("/figures/places", {"year": year})
    if answer.status_code != 200:
        return error_page(who, answer.status_code)
    rows = answer.json()
    assert who.principal is not None
    if who.principal.role is Role.MUNICIPALITY:
        rows = [r for r in rows if r["municipality_number"] == who.principal.municipality_number]
    names = dict(config_of(who.request).municipalities)
    for r in rows:
        r["name"] = names.get(r["municipality_number"], r["municipality_number"])
    may_decide = who.principal.role in PLACES_DECIDERS
    return render(
        who,
        "places.html",
        status=422 if summary else 200,
        year=year,
        rows=rows,
        form=(form or _decision_form(who)) if may_decide else None,
        summary=summary or [],
        done=done,
        key=str(uuid.uuid4()),
    )


def _decision_form(who: Reader) -> list[Input | Group]:
    """The council's decision, from its model; the directorate also picks the municipality."""
    assert who.principal is not None
    fields = inputs_of(request_model(RecordPlacesDecision), form="places")
    if who.principal.role is Role.MUNICIPALITY:
        # The adjusted request is the directorate's to set (routers/places.py).
        return [f for f in fields if not (isinstance(f, Input) and f.name == "adjusted")]
    options = config_of(who.request).municipalities
    return [
        Input(
            "municipality_number",
            FIELDS["municipality_number"],
            "select",
            True,
            options,
            form="places",
        ),
        *fields,
    ]


@router.post("/places")
async def record_places(request: Request) -> Response:
    who = await reader(request)
    form = await request.form()
    await check_csrf(who, str(form.get("csrf", "")))
    assert who.principal is not None
    try:
        year = int(str(form.get("year", "")))
    except ValueError:
        return error_page(who, 404)
    number = who.principal.municipality_number or str(form.get("municipality_number", ""))
    model = request_model(RecordPlacesDecision)
    answer = await who.api.post(
        f"/municipalities/{quote(number or '-', safe='')}/places/{year}",
        body_from_form(model, form, form.getlist),
        str(form.get("key", "")) or str(uuid.uuid4()),
    )
    if answer.is_success:
        return RedirectResponse(f"/app/places?year={year}&done=1", 303)
    if answer.status_code == 403:
        return error_page(who, 403)
    fields = _decision_form(who)
    refill(fields, form)
    problems = problems_of(answer)
    if answer.status_code == 404 or (answer.status_code == 422 and not number):
        problems = [{"loc": ["municipality_number"], "msg": "", "type": "missing"}]
    return await _places(who, year, form=fields, summary=place_errors(fields, problems))


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
        return error_page(who, answer.status_code)
    return render(who, "figures.html", period=period, by=by, report=report, problems=problems)
