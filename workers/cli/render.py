"""Presenting to people in a terminal: Rich tables of the figures, places, suggestions and
the 2020 comparison, and the progress bar of long commands. (The JSON and CSV documents are
in ``workers.figures.documents``, shared with the API.)"""

import datetime
from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from schemas.places import PlacesLedger
from workers.allocation.municipalities import MunicipalityRegister
from workers.allocation.suggestions import Suggestion
from workers.api.access import CaseRow, PersonRow
from workers.figures.definitions import Difference
from workers.figures.metrics import TOTAL, StockReport, WaitingTimeReport

LABELS = {
    "unaccompanied_minor": "Unaccompanied minors",
    "family_with_children": "Families with children",
    "other_adult": "Other adults",
    TOTAL: "Total ¹",
}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _months(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _title(report: WaitingTimeReport) -> str:
    known = f", as known {report.as_of.isoformat()}" if report.as_of else ""
    return f"Settled {report.period_start} – {report.period_end}{known}  ({report.metric_version})"


def report_table(report: WaitingTimeReport) -> Table:
    table = Table(
        title=_title(report),
        caption="¹ includes persons with protected identity, who count in no category.\n"
        "≤ N mo: settled by the permit date + N calendar months. Waits in months of "
        "30.4375 days.",
    )
    table.add_column(report.by.replace("_", " ").capitalize(), no_wrap=True)
    for header in ("Settled", "≤3 mo", "≤6 mo", "≤12 mo", "Mean wait", "Median wait"):
        table.add_column(header, justify="right")
    for g in report.groups:
        table.add_row(
            LABELS.get(g.group, g.group),
            str(g.settled),
            _pct(g.share(3)),
            _pct(g.share(6)),
            _pct(g.share(12)),
            _months(g.mean_wait_months),
            _months(g.median_wait_months),
            style="bold" if g.group == TOTAL else None,
        )
    return table


def steering_table(report: WaitingTimeReport) -> Table:
    table = Table(
        title="Steering parameters (settlement/1)",
        caption=f"Settled after waiting more than 12 months: {report.waited_over_12_months}",
    )
    table.add_column("Id", no_wrap=True)
    table.add_column("What")
    for header in ("Unit", "Within", "Of", "Share", "Target", "Met"):
        table.add_column(header, justify="right")
    for m in report.steering:
        table.add_row(
            m.id,
            m.name,
            m.unit,
            str(m.numerator),
            str(m.denominator),
            _pct(m.share),
            _pct(m.target),
            {True: "yes", False: "no", None: "–"}[m.met],
        )
    return table


def places_table(ledgers: list[PlacesLedger], register: MunicipalityRegister, year: int) -> Table:
    table = Table(title=f"Places per municipality, {year} (unaccompanied minors apart)")
    table.add_column("Municipality", no_wrap=True)
    table.add_column("County", no_wrap=True)
    for header in ("Requested", "Decided", "Used", "Held", "Left", "Minors decided/used"):
        table.add_column(header, justify="right")
    for ledger in ledgers:
        decision = ledger.decision
        municipality = register.get(ledger.municipality_number, datetime.date(year, 1, 1))
        table.add_row(
            f"{municipality.number} {municipality.name}",
            municipality.county_name,
            str(decision.requested if decision else 0),
            str(decision.decided if decision else 0),
            str(ledger.used),
            str(ledger.held(False)),
            str(ledger.left(False)),
            f"{decision.decided_unaccompanied_minors if decision else 0} / "
            f"{ledger.used_unaccompanied_minors}",
        )
    return table


def suggestions_table(
    suggestions: list[Suggestion], register: MunicipalityRegister, on: datetime.date
) -> Table:
    table = Table(title=f"Suggested municipalities on {on.isoformat()}, best first")
    table.add_column("#", justify="right")
    table.add_column("Municipality", no_wrap=True)
    table.add_column("Score", justify="right")
    table.add_column("Why")
    table.add_column("Places left", justify="right")
    table.add_column("Used", justify="right")
    table.add_column("Needs not met")
    for rank, s in enumerate(suggestions, 1):
        municipality = register.get(s.municipality_number, on)
        table.add_row(
            str(rank),
            f"{municipality.number} {municipality.name}",
            f"{s.score:g}",
            ", ".join(r.value.replace("_", " ") for r in s.reasons),
            str(s.places_left),
            _pct(s.share_used),
            ", ".join(n.value.replace("_", " ") for n in s.unmet_needs) or "–",
        )
    return table


def stock_table(stock: StockReport) -> Table:
    known = f", as known {stock.as_of.isoformat()}" if stock.as_of else ""
    table = Table(
        title=f"Waiting at the end of {stock.on.isoformat()}{known}  ({stock.metric_version})"
    )
    table.add_column("Figure")
    table.add_column("Value", justify="right")
    table.add_row(
        "K9 Settlement-ready persons waiting in reception", str(stock.waiting_in_reception)
    )
    table.add_row(
        "K8 Their median wait since the permit (months)", _months(stock.median_wait_months)
    )
    table.add_row("Resettlement refugees with an entry permit, abroad", str(stock.waiting_abroad))
    return table


def comparison_table(differences: list[Difference]) -> Table:
    """Two versions of the definitions side by side, before switching."""
    first = differences[0] if differences else None
    table = Table(
        title="Definitions compared"
        + (f": {first.current.version} beside {first.candidate.version}" if first else "")
    )
    for column in ("Id", "Current", "Candidate", "Changed"):
        table.add_column(column, justify="right" if column != "Id" else "left")
    for d in differences:
        table.add_row(
            d.id,
            f"{d.current.numerator}/{d.current.denominator} {_pct(d.current.share)}",
            f"{d.candidate.numerator}/{d.candidate.denominator} {_pct(d.candidate.share)}",
            "yes" if d.changed else "",
        )
    return table


def beside_published_table(
    report: WaitingTimeReport, stock: StockReport, published: dict[str, float]
) -> Table:
    """Our figures of the simulated year beside the ones the annual report published."""
    ours: dict[str, float | None] = {m.id: m.share for m in report.steering}
    for g in report.groups:
        ours[f"settled_{g.group}" if g.group != TOTAL else "settled"] = g.settled
        key = "mean_months_total" if g.group == TOTAL else f"mean_months_{g.group}"
        ours[key] = g.mean_wait_months
    resettled = [m for m in report.steering if m.id == "SP13.1"]
    ours["settled_resettlement"] = resettled[0].denominator if resettled else None
    ours["waiting_in_reception"] = stock.waiting_in_reception
    ours["median_wait_months_in_reception"] = stock.median_wait_months
    ours["waiting_abroad"] = stock.waiting_abroad
    table = Table(title="The simulated year beside the published figures (domain.md §4)")
    table.add_column("Figure")
    table.add_column("Ours", justify="right")
    table.add_column("Published", justify="right")
    for key, value in published.items():
        mine = ours.get(key)

        def show(x: float | None, key: str = key) -> str:
            if x is None:
                return "–"
            if key.startswith(("K", "SP")):
                return _pct(x)
            if "months" in key:
                return _months(x)
            return f"{x:,.0f}"

        table.add_row(key, show(mine), show(value))
    return table


def progress_bar(console: Console) -> Progress:
    """The one progress bar style of the CLI: what, how far, how long."""
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def queue_table(title: str, rows: Sequence[CaseRow | PersonRow]) -> Table:
    """A page of a work queue: cases, or persons with their qualification deadlines."""
    table = Table(title=title)
    if rows and isinstance(rows[0], PersonRow):
        for column in ("Person", "Case", "Settled", "Next due", "Overdue"):
            table.add_column(column)
        for p in rows:
            assert isinstance(p, PersonRow)
            table.add_row(
                p.person_id,
                p.case_id,
                str(p.settled_on),
                str(p.next_due_on),
                "yes" if p.overdue else "",
            )
        return table
    for column in (
        "Case",
        "Track",
        "Stage",
        "Centre",
        "Municipality",
        "Waiting",
        "Target",
        "Deadline",
    ):
        table.add_column(column)
    for c in rows:
        assert isinstance(c, CaseRow)
        table.add_row(
            c.case_id,
            c.case_type.value,
            c.stage.value,
            c.reception_centre or "–",
            c.municipality_number or "–",
            "–" if c.days_waiting is None else f"{c.days_waiting} d",
            str(c.target_date or "–"),
            c.deadline_state.value if c.deadline_state else "–",
        )
    return table
