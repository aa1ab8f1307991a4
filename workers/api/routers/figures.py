"""The figures (no personal data; every role may read them): a period's waiting times, who
is waiting on a day, a year's trend, the places per municipality, and the dashboard page.
Each answers what the CLI prints with ``--json`` (workers/figures/documents.py)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from workers.api.access import FIGURE_READERS, places_view
from workers.api.deps import Caller, Ctx, IsoDate, IsoMoment, invalid, require
from workers.api.models import ERRORS
from workers.figures.documents import report_json, stock_json
from workers.figures.periods import BadValue, parse_period
from workers.figures.places import places_of_year
from workers.figures.queries import waiting_on, waiting_time
from workers.figures.slices import BREAKDOWNS

router = APIRouter()
DASHBOARD = Path(__file__).parents[1] / "dashboard.html"


@router.get("/figures", tags=["figures"], responses=ERRORS)
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
            description="category, case_type, municipality, county, reception_centre or settled_by"
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
    require(principal, FIGURE_READERS, "read figures")
    try:
        first, last = parse_period(period)
    except BadValue as exc:
        raise invalid("query", "period", str(exc)) from None
    if by not in BREAKDOWNS:
        raise invalid("query", "by", f"must be one of {', '.join(BREAKDOWNS)}")
    report = await waiting_time(
        context.projection,
        first,
        last,
        by=by,
        as_of=as_of,
        geography=context.geography,
        places_on=context.places_on,
    )
    return report_json(report)


@router.get("/figures/waiting", tags=["figures"], responses=ERRORS)
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
    require(principal, FIGURE_READERS, "read figures")
    stock = await waiting_on(context.projection, on or datetime.now(UTC).date(), as_of=as_of)
    return stock_json(stock)


@router.get("/figures/trend", tags=["figures"], responses=ERRORS)
async def trend(
    principal: Caller,
    context: Ctx,
    year: Annotated[int, Query(ge=2000, le=2100, description="Calendar year")],
) -> list[dict[str, Any]]:
    """Month by month of a year: persons settled, and the shares settled within 3, 6
    and 12 months of their permit (all refugees)."""
    require(principal, FIGURE_READERS, "read figures")
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


@router.get("/figures/places", tags=["figures"], responses=ERRORS)
async def places(
    principal: Caller,
    context: Ctx,
    year: Annotated[int, Query(ge=2000, le=2100, description="Calendar year")],
    as_of: Annotated[
        IsoMoment | None,
        Query(
            description="The places as known at this moment (the places events and the "
            "settlements recorded by then): ISO 8601; a date alone means the end of that day"
        ),
    ] = None,
    by: Annotated[
        str, Query(description="municipality (default) or county: the sum of its municipalities")
    ] = "municipality",
) -> list[dict[str, Any]]:
    """Places per municipality or county: requested, adjusted, decided by the council,
    ``used``, ``reserved`` (held for allocated households) and ``left``, and the persons
    settled in the year (``settled``, as the waiting-time figures count them) with the
    decided places not yet filled by them (``unfilled``). Now and per municipality, used and
    reserved are the live ledger's, as this reader may see them; ``as_of`` or ``by=county``
    answer from the read model, where households with a protected-identity member are in no
    municipality's count for any reader, as in the waiting-time figures (see the README's
    security model)."""
    require(principal, FIGURE_READERS, "read figures")
    if by not in ("municipality", "county"):
        raise invalid("query", "by", "must be one of municipality, county")
    known = await places_of_year(
        context.projection,
        year,
        as_of=as_of,
        geography=context.geography,
        by_county=by == "county",
    )
    if as_of is not None or by == "county":
        key = "county" if by == "county" else "municipality_number"
        return [{key: p.key} | p.json() for p in known]
    if context.places is None:
        return []
    settled = {p.key: p.settled for p in known}
    ledgers = [places_view(principal, ledger) for ledger in await context.places.ledgers(year)]
    rows = []
    for ledger in sorted(ledgers, key=lambda ledger: ledger.municipality_number):
        decision = ledger.decision
        decided = decision.decided if decision else 0
        settled_here = settled.get(ledger.municipality_number, 0)
        rows.append(
            {
                "municipality_number": ledger.municipality_number,
                "requested": decision.requested if decision else 0,
                "adjusted": decision.adjusted if decision else None,
                "decided": decided,
                "used": ledger.used,
                "reserved": ledger.reserved,
                "left": ledger.left(False),
                "settled": settled_here,
                "unfilled": decided - settled_here,
            }
        )
    return rows


@router.get("/dashboard", tags=["figures"], response_class=HTMLResponse)
async def dashboard(
    year: Annotated[int | None, Query(ge=2000, le=2100, description="The year shown first")] = None,
) -> HTMLResponse:
    """The live dashboard. The page holds no data; it asks the figures endpoints with the
    token you give it (any role may read figures) and refreshes every few seconds."""
    return HTMLResponse(DASHBOARD.read_text())
