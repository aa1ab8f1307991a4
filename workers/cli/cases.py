"""Acting on many cases at once (``bosetting cases``) and importing an existing register
(``bosetting import``)."""

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from schemas.enums import WithdrawalReason
from schemas.errors import CaseNotFound
from workers.cli.common import (
    cli_reader,
    console,
    iso_date,
)
from workers.cli.render import progress_bar
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings

app = typer.Typer()
cases_app = typer.Typer(help="Act on many cases at once.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")


@cases_app.command("suggest")
def cases_suggest(
    case_id: Annotated[str, typer.Argument(help="The case to find a municipality for.")],
    purpose: Annotated[str, typer.Option(help="Why you read this household (audited).")],
    on: Annotated[
        str | None, typer.Option(help="Allocation date, YYYY-MM-DD (default: today).")
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="Municipality profiles, JSON Lines (default: the configured file)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Municipalities with room for a household, best first, with the reasons for each. The
    household's record is read: the read is audited under your user name with its purpose."""
    from workers.allocation.municipalities import configured as municipality_register
    from workers.allocation.suggestions import ProfileError, load_profiles, suggest
    from workers.api.audit import record_read
    from workers.cli.render import suggestions_table
    from workers.platform import db
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService
    from workers.services.places import PlacesService

    day = iso_date(on, "--on") if on else datetime.now(UTC).date()
    require_purpose(purpose)
    settings = Settings()
    configure_logging(settings, component="cli")
    path = profiles or settings.municipality_profiles_file
    try:
        loaded = load_profiles(path) if path else None
    except (OSError, ProfileError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--profiles") from None
    principal = cli_reader()

    async def main() -> None:
        client = await connect(settings)
        state = await CaseService(client, settings.task_queue).state(case_id)
        municipalities = municipality_register(settings)
        ledgers = await PlacesService(client, settings.task_queue, municipalities).ledgers(day.year)
        found = suggest(state, ledgers, day, loaded, limit)
        register = db.make_engine(settings.register_url)
        try:  # as the API's suggestions route: the read is written before it is shown
            await record_read(
                db.sessionmaker(register),
                principal,
                action="case.suggestions",
                resource=f"case/{case_id}",
                purpose=purpose,
                outcome="granted",
            )
        finally:
            await register.dispose()
        if as_json:
            print(json.dumps([s.as_json() for s in found], indent=2))
        else:
            console.print(suggestions_table(found, municipalities, day))

    try:
        asyncio.run(main())
    except CaseNotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def require_purpose(purpose: str) -> None:
    if len(purpose.strip()) < 3:
        raise typer.BadParameter("must say why, in at least 3 characters", param_hint="--purpose")


@cases_app.command("withdraw")
def cases_withdraw(
    query: Annotated[
        str,
        typer.Option(
            help="Visibility query, e.g. \"CaseStage='accepted' AND CaseType='resettlement'\"."
        ),
    ],
    on: Annotated[str, typer.Option(help="Withdrawal date, YYYY-MM-DD.")],
    reason: Annotated[WithdrawalReason, typer.Option(help="Why.")],
    dry_run: Annotated[bool, typer.Option(help="Only count the cases the query finds.")] = False,
) -> None:
    """Withdraw the allocation of every running case a query finds (as in March 2020).
    Safe to re-run: each case's withdrawal is idempotent."""
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService

    withdrawn_on = iso_date(on, "--on")
    settings = Settings()

    async def main() -> int:
        service = CaseService(await connect(settings), settings.task_queue)
        case_ids = await service.case_ids(query)
        if dry_run:
            console.print(f"{len(case_ids)} cases match")
            return 0
        with progress_bar(console) as progress:
            task = progress.add_task("Withdrawing", total=len(case_ids))
            refused = await service.withdraw_many(
                case_ids, withdrawn_on, reason, on_done=lambda: progress.advance(task)
            )
        for case_id, why in sorted(refused.items()):
            console.print(f"[yellow]refused[/] {case_id}: {why}")
        console.print(f"{len(case_ids) - len(refused)} withdrawn, {len(refused)} refused")
        return 1 if refused else 0

    raise typer.Exit(asyncio.run(main()))


@cases_app.command("compact")
def cases_compact(
    query: Annotated[str, typer.Option(help="Visibility query, e.g. \"CaseStage='allocated'\".")],
    dry_run: Annotated[bool, typer.Option(help="Only count the cases the query finds.")] = False,
) -> None:
    """Ask every running case a query finds to continue as new (sheds history and the patch
    markers of old workflow versions). Safe to repeat."""
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService

    settings = Settings()

    async def main() -> None:
        service = CaseService(await connect(settings), settings.task_queue)
        case_ids = await service.case_ids(query)
        if dry_run:
            console.print(f"{len(case_ids)} cases match")
            return
        with progress_bar(console) as progress:
            task = progress.add_task("Compacting", total=len(case_ids))
            await service.compact_many(case_ids, on_done=lambda: progress.advance(task))
        console.print(f"{len(case_ids)} cases asked to continue as new")

    asyncio.run(main())


@app.command("import")
def import_cases(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON Lines file.")],
    dry_run: Annotated[bool, typer.Option(help="Validate every line; import nothing.")] = False,
) -> None:
    """Import cases from an existing register (formats bosetting.case/1 and /2, and council
    decisions as bosetting.places/2; see the README).

    Every line is validated first; the council decisions are then recorded in file order and
    the cases imported through the workflows, each step of format 2 with the moment the old
    register registered it. Re-running the same file resumes an interrupted import without
    repeating anything."""
    from schemas.errors import CommandRejected
    from workers.allocation.municipalities import configured as municipality_register
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService
    from workers.services.importer import LineProblem, import_plans, parse_lines
    from workers.services.places import PlacesService
    from workers.services.plans import ensure_places, places_recorded

    settings = Settings()
    with path.open(encoding="utf-8") as lines:
        parsed = parse_lines(lines, municipality_register(settings))
    for problem in parsed.rejected[:50]:
        console.print(f"[red]rejected[/] {problem}")
    if len(parsed.rejected) > 50:
        console.print(f"… and {len(parsed.rejected) - 50} more rejected lines")
    for problem in parsed.held[:50]:
        console.print(f"[yellow]held for review[/] {problem}")
    if len(parsed.held) > 50:
        console.print(f"… and {len(parsed.held) - 50} more held lines")
    console.print(
        f"{len(parsed.plans)} valid cases, {len(parsed.decisions)} council decisions, "
        f"{len(parsed.rejected)} rejected lines, {len(parsed.held)} held for review"
    )
    if dry_run:
        raise typer.Exit(1 if parsed.rejected or parsed.held else 0)

    async def main() -> int:
        client = await connect(settings)
        service = CaseService(client, settings.task_queue)
        plans = [plan for _, plan in parsed.plans]
        # The old register's council decisions (format 2) first, in the order of the file;
        # then each municipality-year is given at least the places the imported allocations
        # need (format 1 carries no decisions).
        places = PlacesService(client, settings.task_queue, municipality_register(settings))
        refused: list[LineProblem] = []
        for line, number, year, decision in parsed.decisions:
            try:
                await places.record_decision(number, year, decision)
            except CommandRejected as exc:
                refused.append(LineProblem(line, str(exc)))
        await ensure_places(places, plans, label="import")
        with progress_bar(console) as progress:
            task = progress.add_task("Importing", total=len(plans))
            result = await import_plans(
                service, parsed.plans, on_done=lambda: progress.advance(task)
            )
        # The ledgers write what the imported steps took behind their updates: done is done.
        await places_recorded(places, plans)
        result.failed = sorted([*refused, *result.failed], key=lambda p: p.line)
        for problem in result.failed:
            console.print(f"[red]failed[/] {problem}")
        console.print(
            f"imported {result.imported} cases ({result.persons} persons); "
            f"{result.already_closed} already imported and closed; "
            f"{len(result.failed)} failed; {len(parsed.rejected)} lines rejected; "
            f"{len(parsed.held)} held for review"
        )
        return 1 if result.failed or parsed.rejected or parsed.held else 0

    raise typer.Exit(asyncio.run(main()))


@cases_app.command("list")
def cases_list(
    queue: Annotated[
        str,
        typer.Argument(
            help="reception, allocation, reply-overdue, targets, inbox, accepted, "
            "qualification, breached or stuck."
        ),
    ],
    purpose: Annotated[str, typer.Option(help="Why you list these cases (audited).")],
    place: Annotated[
        str | None,
        typer.Option(help="The reception centre or municipality of a queue scoped to one."),
    ] = None,
    stage: Annotated[str | None, typer.Option(help="Only cases at this stage.")] = None,
    deadline: Annotated[
        str | None, typer.Option(help="on_track, approaching, breached or met.")
    ] = None,
    sort: Annotated[str | None, typer.Option(help="One of the queue's sorts.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Rows on the page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next page's cursor.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """One page of a work queue from the case register, as the API serves it to a cleared
    administrator; the listing is audited under your user name with its purpose."""
    from schemas.enums import CaseStage, DeadlineState
    from workers.api.access import case_row, person_row
    from workers.api.audit import record_read
    from workers.cli.render import queue_table
    from workers.platform import db
    from workers.projection.queues import QUEUES, BadCursor, Filters, deadline_state, read_queue

    spec = QUEUES.get(queue)
    if spec is None:
        raise typer.BadParameter(f"must be one of {', '.join(QUEUES)}", param_hint="QUEUE")
    if sort is not None and sort not in spec.sorts:
        raise typer.BadParameter(f"must be one of {', '.join(spec.sorts)}", param_hint="--sort")
    if (spec.place is None) != (place is None):
        rule = "is required for this queue" if place is None else "is not used by this queue"
        raise typer.BadParameter(rule, param_hint="--place")
    require_purpose(purpose)
    try:
        stage_value = CaseStage(stage) if stage else None
        deadline_value = DeadlineState(deadline) if deadline else None
    except ValueError:
        raise typer.BadParameter("is not a stage or deadline state (see --help)") from None
    settings = Settings()
    principal = cli_reader()
    today = datetime.now(UTC).date()

    async def main() -> None:
        projection = db.make_engine(settings.projection_url)
        register = db.make_engine(settings.register_url)
        try:
            page = await read_queue(
                db.sessionmaker(projection),
                spec,
                Filters(
                    place=place,
                    stage=stage_value,
                    deadline=deadline_value,
                    stuck_before=datetime.now(UTC) - settings.monitor_stuck_after,
                ),
                sort=sort,
                limit=limit,
                cursor=cursor,
                today=today,
            )
            key = "person" if spec.persons else "case"
            await record_read(
                db.sessionmaker(register),
                principal,
                action=f"queue.{queue}",
                resource=f"queue/{queue}",
                purpose=purpose,
                outcome="granted",
                returned=[f"{key}/{r[f'{key}_id']}" for r in page.rows],
            )
        except BadCursor as exc:
            raise typer.BadParameter(str(exc), param_hint="--cursor") from None
        finally:
            await projection.dispose()
            await register.dispose()
        rows = [
            person_row(r, today)
            if spec.persons
            else case_row(principal, r, deadline_state(r, today), today)
            for r in page.rows
        ]
        if as_json:
            document = {
                "queue": queue,
                "rows": [r.model_dump(mode="json") for r in rows],
                "next_cursor": page.next_cursor,
            }
            print(json.dumps(document, indent=2))
        else:
            console.print(queue_table(spec.summary, rows))
            if page.next_cursor:
                console.print(f"next page: --cursor {page.next_cursor}")

    asyncio.run(main())
