"""The figures: a period's waiting times (``bosetting metrics``), who is waiting on a day
(``bosetting waiting``), and stored snapshots of official reports (``bosetting snapshots``)."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from workers.cli.common import (
    console,
    iso_date,
    moment_of,
    period_of,
)
from workers.platform import db
from workers.platform.settings import Settings

app = typer.Typer()
snapshots_app = typer.Typer(help="Stored snapshots of official reports.", no_args_is_help=True)
app.add_typer(snapshots_app, name="snapshots")


@app.command()
def metrics(
    year: Annotated[
        int | None, typer.Option(help="Calendar year of settlement (default: this year).")
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="2020, 2020-Q3, 2020-07, or 12m:2020-12 (rolling twelve months)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First settlement date, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last settlement date, YYYY-MM-DD.")
    ] = None,
    by: Annotated[
        str,
        typer.Option(
            help="Break down by category, case_type, municipality, county, reception_centre "
            "or settled_by."
        ),
    ] = "category",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The figures as known then (a date means the end of that day, UTC)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    snapshot: Annotated[
        str | None,
        typer.Option(help="Store the report under this name, with its versions and positions."),
    ] = None,
    definitions: Annotated[
        str, typer.Option(help="Version of the figures' definitions to compute.")
    ] = "settlement/1",
    compare: Annotated[
        str | None,
        typer.Option(help="Also compute this version and show where the figures differ."),
    ] = None,
) -> None:
    """Waiting-time figures and steering parameters for persons settled in a period."""
    from workers.allocation.municipalities import configured as municipality_register
    from workers.cli.render import report_table, steering_table
    from workers.figures.documents import report_csv, report_json
    from workers.figures.queries import waiting_time
    from workers.figures.slices import BREAKDOWNS

    if by not in BREAKDOWNS:
        raise typer.BadParameter(f"must be one of {', '.join(BREAKDOWNS)}", param_hint="--by")
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both")
    first, last = period_of(
        year,
        period,
        iso_date(start, "--from") if start else None,
        iso_date(end, "--to") if end else None,
    )
    known = moment_of(as_of)
    settings = Settings()
    municipalities = municipality_register(settings)

    if snapshot and known:
        raise typer.BadParameter("a snapshot is taken of the figures as known now, not --as-of")
    from workers.figures.definitions import VERSIONS

    for option, version in (("--definitions", definitions), ("--compare", compare)):
        if version is not None and version not in VERSIONS:
            raise typer.BadParameter(f"must be one of {', '.join(VERSIONS)}", param_hint=option)

    async def main() -> None:
        from workers.figures.snapshots import SnapshotError, take

        engine = db.make_engine(settings.projection_url)
        try:
            sessions = db.sessionmaker(engine)
            if snapshot:
                try:
                    report = await take(
                        sessions,
                        snapshot,
                        first,
                        last,
                        by,
                        report_json,
                        municipalities,
                        settings.projection_group_id,
                        places_on=settings.figures_places_on,
                    )
                except SnapshotError as exc:
                    raise typer.BadParameter(str(exc), param_hint="--snapshot") from None
                console.print(f"stored snapshot {snapshot!r}")
            else:
                report = await waiting_time(
                    sessions,
                    first,
                    last,
                    by=by,
                    as_of=known,
                    geography=municipalities,
                    places_on=settings.figures_places_on,
                    definitions=definitions,
                )
            candidate = (
                await waiting_time(
                    sessions,
                    first,
                    last,
                    as_of=known,
                    geography=municipalities,
                    places_on=settings.figures_places_on,
                    definitions=compare,
                )
                if compare
                else None
            )
        finally:
            await engine.dispose()
        if candidate is not None:
            from workers.cli.render import comparison_table
            from workers.figures.definitions import compare_versions

            differences = compare_versions(report.steering, candidate.steering)
            if as_json:
                print(
                    json.dumps(
                        [
                            {
                                "id": d.id,
                                "current": d.current.model_dump(),
                                "candidate": d.candidate.model_dump(),
                                "changed": d.changed,
                            }
                            for d in differences
                        ],
                        indent=2,
                    )
                )
            else:
                console.print(comparison_table(differences))
            return
        if as_json:
            print(json.dumps(report_json(report), indent=2))
        elif as_csv:
            print(report_csv(report), end="")
        else:
            console.print(report_table(report))
            console.print(steering_table(report))

    asyncio.run(main())


@app.command()
def waiting(
    on: Annotated[
        str | None, typer.Option(help="Reference day, YYYY-MM-DD (default: today).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As known then (a date: the end of that day).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Who was waiting at the end of a day: settlement-ready persons in reception and the
    median of their waits (K9, K8), and resettlement refugees still abroad."""
    from workers.cli.render import stock_table
    from workers.figures.documents import stock_json
    from workers.figures.queries import waiting_on

    day = iso_date(on, "--on") if on else datetime.now(UTC).date()
    known = moment_of(as_of)
    settings = Settings()

    async def main() -> None:
        engine = db.make_engine(settings.projection_url)
        try:
            stock = await waiting_on(db.sessionmaker(engine), day, known)
        finally:
            await engine.dispose()
        if as_json:
            print(json.dumps(stock_json(stock), indent=2))
        else:
            console.print(stock_table(stock))

    asyncio.run(main())


@snapshots_app.command("list")
def snapshots_list() -> None:
    """The stored snapshots: name, when, period, breakdown, versions and positions."""
    from rich.table import Table

    from workers.figures.snapshots import listing

    settings = Settings()

    async def main() -> None:
        engine = db.make_engine(settings.projection_url)
        try:
            found = await listing(db.sessionmaker(engine))
        finally:
            await engine.dispose()
        table = Table(title="Report snapshots")
        for column in ("Name", "Taken", "Period", "By", "Versions", "Positions"):
            table.add_column(column)
        for s in found:
            table.add_row(
                s.name,
                s.created_at.isoformat(timespec="seconds"),
                f"{s.period_start} – {s.period_end}",
                s.by,
                s.versions,
                s.positions,
            )
        console.print(table)

    asyncio.run(main())


@snapshots_app.command("verify")
def snapshots_verify(name: Annotated[str, typer.Argument(help="The snapshot's name.")]) -> None:
    """Recompute a snapshot's report as known when it was taken, and compare."""
    from workers.allocation.municipalities import configured as municipality_register
    from workers.figures.documents import report_json
    from workers.figures.snapshots import SnapshotError, verify

    settings = Settings()
    municipalities = municipality_register(settings)

    async def main() -> int:
        engine = db.make_engine(settings.projection_url)
        try:
            result = await verify(
                db.sessionmaker(engine),
                name,
                report_json,
                municipalities,
                places_on=settings.figures_places_on,
            )
        except SnapshotError as exc:
            console.print(f"[red]{exc}[/]")
            return 1
        finally:
            await engine.dispose()
        if result.same:
            console.print(f"snapshot {name!r} reproduces exactly")
            return 0
        console.print(f"[red]snapshot {name!r} differs in: {', '.join(result.differences)}[/]")
        return 1

    raise typer.Exit(asyncio.run(main()))
