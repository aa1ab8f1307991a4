"""The overviews in the same look and language: a municipality-year's places and the
waiting-time figures."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from schemas.enums import Role
from workers.api.web.reader import config_of, error_page, reader, render

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/places")
async def places_page(
    request: Request, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> Response:
    who = await reader(request)
    year = year or datetime.now(UTC).year
    answer = await who.api.get("/figures/places", {"year": year})
    if answer.status_code != 200:
        return error_page(who, answer.status_code)
    rows = answer.json()
    assert who.principal is not None
    if who.principal.role is Role.MUNICIPALITY:
        rows = [r for r in rows if r["municipality_number"] == who.principal.municipality_number]
    names = dict(config_of(request).municipalities)
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
        return error_page(who, answer.status_code)
    return render(who, "figures.html", period=period, by=by, report=report, problems=problems)
