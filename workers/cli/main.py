"""``bosetting``: the command line of every process and of the demo."""

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from schemas.enums import WithdrawalReason
from schemas.errors import CaseNotFound
from workers.cli.render import progress_bar
from workers.platform import db
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings

if TYPE_CHECKING:
    from schemas.places import PlacesLedger
    from workers.services.places import PlacesService

app = typer.Typer(
    help="Bosetting: settlement cases on Temporal and Kafka, with exact waiting-time figures.",
    no_args_is_help=True,
)
dev = typer.Typer(help="The embedded stack on this machine.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
cases_app = typer.Typer(help="Act on many cases at once.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
places_app = typer.Typer(help="Municipalities' decided places and their use.", no_args_is_help=True)
app.add_typer(places_app, name="places")
snapshots_app = typer.Typer(help="Stored snapshots of official reports.", no_args_is_help=True)
app.add_typer(snapshots_app, name="snapshots")
app.add_typer(dev, name="dev")
app.add_typer(db_app, name="db")
console = Console()
if not console.is_terminal:
    console.width = 110  # tables in logs and pipes: wide enough not to wrap


def _iso_date(value: str, option: str) -> date:
    """A date option, or a usage error that names the option and the rule."""
    from workers.figures.periods import BadValue, parse_day

    try:
        return parse_day(value)
    except BadValue as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _run_until_signalled(
    main: Callable[[asyncio.Event, Callable[[], None]], Awaitable[None]],
) -> None:
    """Run a long-lived process until SIGINT or SIGTERM, then let it stop cleanly."""
    ready_file = os.environ.get("BOSETTING_READY_FILE")

    def ready() -> None:
        if ready_file:
            Path(ready_file).write_text(str(os.getpid()))

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop, ready)

    from workers.platform.tracing import shutdown_tracing

    try:
        _exit_on_stack_error(lambda: asyncio.run(runner()))
    finally:
        shutdown_tracing()


def _run_part(
    component: str,
    run: Callable[[Settings, asyncio.Event, Callable[[], None]], Awaitable[None]],
) -> None:
    """A long-running part: its settings, its logs and traces, until signalled."""
    settings = Settings()
    configure_logging(settings, component=component)
    _run_until_signalled(lambda stop, ready: run(settings, stop, ready))


def _exit_on_stack_error(run: Callable[[], object]) -> object:
    """A part of the embedded stack that cannot start is the user's to fix: say what and
    where, without a traceback."""
    from workers.processes.embedded import StackError

    try:
        return run()
    except (StackError, db.SchemaOutOfDate) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


@app.command()
def worker() -> None:
    """Run the case worker: settlement workflows, their activities, the outbox publisher."""
    from workers.processes.case_worker import run_case_worker

    _run_part("case-worker", run_case_worker)


@app.command()
def projection() -> None:
    """Run the projection worker: case events from Kafka into the waiting-time read model."""
    from workers.processes.projection_worker import run_projection

    _run_part("projection", run_projection)


@app.command()
def api() -> None:
    """Run the HTTP API (FastAPI): every step of a case, each role's view, the figures."""
    from workers.api.server import NoTokenKeys, run_api, verifier_for

    try:
        verifier_for(Settings())
    except NoTokenKeys as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    _run_part("api", run_api)


@app.command()
def openapi() -> None:
    """Print the API's OpenAPI document (committed as docs/openapi.json)."""
    from workers.api.app import create_app

    print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))


@app.command()
def contracts(
    out: Annotated[Path, typer.Option(help="Folder to write them to.")] = Path("docs"),
) -> None:
    """Write the event contracts: a JSON Schema per event type and the AsyncAPI document of
    both topics (committed in docs/; the topic names are the defaults)."""
    from workers.operations.contracts import write

    for path in write(out, Settings.model_construct()):
        console.print(f"wrote {path}")


@app.command()
def monitor() -> None:
    """Run the monitor: the status checks every few seconds as Prometheus metrics
    (/metrics), a health endpoint (/health) and alert events (the alerts topic and the log)."""
    from workers.processes.monitor import run_monitor

    _run_part("monitor", run_monitor)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Is every part alive and every event moving: workers' heartbeats, the outbox, consumer
    lag, dead letters, Temporal and the settlement targets. Exits 1 unless all are OK."""
    from rich.table import Table

    from workers.operations.status import gather

    settings = Settings()
    result = asyncio.run(gather(settings))
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        colour = {"OK": "green", "WARN": "yellow", "DOWN": "red"}
        table = Table(title=f"Bosetting, {result.at:%Y-%m-%d %H:%M:%S} UTC")
        for column in ("Check", "State", "Detail"):
            table.add_column(column)
        for check in result.checks:
            state = f"[{colour[check.verdict]}]{check.verdict}[/]"
            table.add_row(check.name, state, check.detail)
        console.print(table)
    raise typer.Exit(0 if result.healthy else 1)


tokens_app = typer.Typer(help="Development tokens for the API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("mint")
def tokens_mint(
    role: Annotated[
        str,
        typer.Argument(help="reception, caseworker, municipality, operations or administrator."),
    ],
    subject: Annotated[
        str, typer.Option(help="Who the token is for (the sub claim).")
    ] = "dev-user",
    reception_centre: Annotated[
        str | None, typer.Option(help="Reception staff: their centre.")
    ] = None,
    municipality: Annotated[
        str | None, typer.Option(help="A municipality: its number, e.g. 0301.")
    ] = None,
    cleared: Annotated[bool, typer.Option(help="May see protected-identity persons.")] = False,
    hours: Annotated[int, typer.Option(min=1, max=24 * 30, help="Valid for this many hours.")] = 8,
) -> None:
    """Sign a token with the embedded stack's development key (made on first use) and print it.
    Production tokens come from the identity provider, never from here."""
    from pydantic import ValidationError

    from schemas.enums import Role
    from workers.api.auth import Principal, dev_keys, mint

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(f"must be one of {', '.join(Role)}", param_hint="ROLE")
    try:
        principal = Principal(
            subject=subject,
            role=Role(role),
            reception_centre=reception_centre,
            municipality_number=municipality,
            cleared=cleared,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise typer.BadParameter(problem["msg"].removeprefix("Value error, ")) from None
    settings = Settings()
    private, _ = dev_keys(settings.keys_dir)
    print(
        mint(
            private,
            issuer=settings.api_issuer,
            audience=settings.api_audience,
            principal=principal,
            ttl_s=hours * 3600,
        )
    )


@app.command("rebuild-projection")
def rebuild_projection(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: the read model is emptied and rebuilt.")
    ] = False,
) -> None:
    """Rebuild the read model from the SQL event log (after the broker lost its data, or a
    projection table changed). Stop the projection worker first; start it again after."""
    from workers.operations.rebuild import count_events, rebuild_from_event_log
    from workers.projection.consumer import tune_garbage_collector

    if not yes:
        raise typer.BadParameter(
            "the read model will be emptied first; pass --yes", param_hint="--yes"
        )
    settings = Settings()

    async def main() -> None:
        tune_garbage_collector()
        await db.require_current(settings.register_url, db.REGISTER)
        await db.require_current(settings.projection_url, db.PROJECTION)
        register = db.make_engine(settings.register_url)
        projection = db.make_engine(settings.projection_url)
        try:
            total = await count_events(db.sessionmaker(register))
            with progress_bar(console) as progress:
                task = progress.add_task("Events from the event log", total=total)
                applied = await rebuild_from_event_log(
                    db.sessionmaker(register),
                    db.sessionmaker(projection),
                    on_progress=lambda n: progress.advance(task, n),
                )
        finally:
            await register.dispose()
            await projection.dispose()
        console.print(f"rebuilt from {total} logged events ({applied} applied)")

    asyncio.run(main())


@app.command()
def republish(
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: events go out again.")] = False,
    from_position: Annotated[
        int, typer.Option(min=0, help="First event-log position to send again (default all).")
    ] = 0,
) -> None:
    """Send the event log (and the municipality feed) to Kafka again, after the broker lost its
    data: rows are marked unpublished and the running relays send them in log order. Run
    rebuild-projection first (it forgets the consumer positions of the lost topic)."""
    from workers.operations.rebuild import republish as mark_unpublished

    if not yes:
        raise typer.BadParameter("every event will be sent again; pass --yes", param_hint="--yes")
    settings = Settings()

    async def main() -> tuple[int, int]:
        from workers.platform.kafka import provision_topics

        # The topics first, with their partitions: a relay sending to a topic that does not
        # exist may have the broker create it on the fly with defaults (the embedded broker
        # does, and loses those records when the topic is then created properly).
        await db.require_current(settings.register_url, db.REGISTER)
        await db.require_current(settings.projection_url, db.PROJECTION)
        await provision_topics(settings, settings.kafka_topic, settings.kafka_feed_topic)
        register = db.make_engine(settings.register_url)
        projection = db.make_engine(settings.projection_url)
        try:
            return await mark_unpublished(
                db.sessionmaker(register), db.sessionmaker(projection), from_position
            )
        finally:
            await register.dispose()
            await projection.dispose()

    events, entries = asyncio.run(main())
    console.print(
        f"{events} events and {entries} feed entries marked unpublished; "
        "the case worker and the projection process send them again"
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the register and projection schemas to the newest version."""
    settings = Settings()

    async def main() -> None:
        await db.upgrade(settings.register_url, db.REGISTER)
        await db.upgrade(settings.projection_url, db.PROJECTION)

    asyncio.run(main())
    console.print("register and projection schemas are up to date")


@cases_app.command("suggest")
def cases_suggest(
    case_id: Annotated[str, typer.Argument(help="The case to find a municipality for.")],
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
    """Municipalities with room for a household, best first, with the reasons for each."""
    import structlog

    from workers.allocation.municipalities import configured as municipality_register
    from workers.allocation.suggestions import ProfileError, load_profiles, suggest
    from workers.cli.render import suggestions_table
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService
    from workers.services.places import PlacesService

    day = _iso_date(on, "--on") if on else datetime.now(UTC).date()
    settings = Settings()
    configure_logging(settings, component="cli")
    path = profiles or settings.municipality_profiles_file
    try:
        loaded = load_profiles(path) if path else None
    except (OSError, ProfileError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--profiles") from None

    async def main() -> None:
        client = await connect(settings)
        state = await CaseService(client, settings.task_queue).state(case_id)
        # The case state is a personal record: say who read it and why.
        structlog.get_logger().info(
            "case_read", case_id=case_id, purpose="allocation_suggestions", actor=_actor()
        )
        municipalities = municipality_register(settings)
        ledgers = await PlacesService(client, settings.task_queue, municipalities).ledgers(day.year)
        found = suggest(state, ledgers, day, loaded, limit)
        if as_json:
            print(json.dumps([s.as_json() for s in found], indent=2))
        else:
            console.print(suggestions_table(found, municipalities, day))

    try:
        asyncio.run(main())
    except CaseNotFound as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


def _actor() -> str:
    """Who runs the command line, for the audit log."""
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"


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

    withdrawn_on = _iso_date(on, "--on")
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
    """Import cases from an existing register (format bosetting.case/1, see the README).

    Every line is validated first; valid cases are then imported through the workflows.
    Re-running the same file resumes an interrupted import without repeating anything."""
    from workers.allocation.municipalities import configured as municipality_register
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService
    from workers.services.importer import import_plans, parse_lines
    from workers.services.places import PlacesService
    from workers.services.plans import ensure_places

    settings = Settings()
    with path.open(encoding="utf-8") as lines:
        parsed = parse_lines(lines, municipality_register(settings))
    for problem in parsed.rejected[:50]:
        console.print(f"[red]rejected[/] {problem}")
    if len(parsed.rejected) > 50:
        console.print(f"… and {len(parsed.rejected) - 50} more rejected lines")
    console.print(f"{len(parsed.plans)} valid cases, {len(parsed.rejected)} rejected lines")
    if dry_run:
        raise typer.Exit(1 if parsed.rejected else 0)

    async def main() -> int:
        client = await connect(settings)
        service = CaseService(client, settings.task_queue)
        plans = [plan for _, plan in parsed.plans]
        # The old register's council decisions are not in the format: each municipality-year
        # is given at least the places the imported allocations need.
        places = PlacesService(client, settings.task_queue, municipality_register(settings))
        await ensure_places(places, plans, label="import")
        with progress_bar(console) as progress:
            task = progress.add_task("Importing", total=len(plans))
            result = await import_plans(
                service, parsed.plans, on_done=lambda: progress.advance(task)
            )
        for problem in result.failed:
            console.print(f"[red]failed[/] {problem}")
        console.print(
            f"imported {result.imported} cases ({result.persons} persons); "
            f"{result.already_closed} already imported and closed; "
            f"{len(result.failed)} failed; {len(parsed.rejected)} lines rejected"
        )
        return 1 if result.failed or parsed.rejected else 0

    raise typer.Exit(asyncio.run(main()))


Municipality = Annotated[
    str, typer.Option("--municipality", help="Municipality number, e.g. 0301.")
]
Year = Annotated[int, typer.Option(help="Settlement year the places are for.")]


@places_app.command("decide")
def places_decide(
    municipality: Municipality,
    year: Year,
    requested: Annotated[
        int, typer.Option(min=0, help="Refugees the municipality was asked to settle.")
    ],
    decided: Annotated[int, typer.Option(min=0, help="Places the council decided (minors apart).")],
    on: Annotated[str, typer.Option(help="Date of the decision, YYYY-MM-DD.")],
    adjusted: Annotated[int | None, typer.Option(min=0, help="Adjusted request, if any.")] = None,
    minors_requested: Annotated[int, typer.Option(min=0)] = 0,
    minors_decided: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Record a council's decision on places for a year (or revise it)."""
    from schemas.errors import CommandRejected
    from schemas.places import RecordPlacesDecision

    decided_on = _iso_date(on, "--on")
    decision = RecordPlacesDecision(
        command_id=f"cli/{municipality}/{year}/{decided_on}/{requested}/{adjusted}/{decided}/"
        f"{minors_requested}/{minors_decided}",
        decided_on=decided_on,
        requested=requested,
        adjusted=adjusted,
        decided=decided,
        requested_unaccompanied_minors=minors_requested,
        decided_unaccompanied_minors=minors_decided,
    )
    settings = Settings()

    async def main() -> None:
        ledger = await (await _places_service(settings)).record_decision(
            municipality, year, decision
        )
        _print_ledger(ledger, year)

    try:
        asyncio.run(main())
    except CommandRejected as exc:
        console.print(f"[red]refused:[/] {exc}")
        raise typer.Exit(1) from None


@places_app.command("show")
def places_show(municipality: Municipality, year: Year) -> None:
    """A municipality's places for a year: decided, used, held by allocations, left."""
    settings = Settings()

    async def main() -> None:
        _print_ledger(await (await _places_service(settings)).ledger(municipality, year), year)

    asyncio.run(main())


async def _places_service(settings: Settings) -> "PlacesService":
    from workers.allocation.municipalities import configured as municipality_register
    from workers.platform.temporal import connect
    from workers.services.places import PlacesService

    return PlacesService(
        await connect(settings), settings.task_queue, municipality_register(settings)
    )


def _print_ledger(ledger: "PlacesLedger", year: int) -> None:
    from workers.allocation.municipalities import configured as municipality_register
    from workers.cli.render import places_table

    console.print(places_table([ledger], municipality_register(Settings()), year))


@app.command("payload-key")
def payload_key(
    key_id: Annotated[str, typer.Option("--id", help="The key's id, kept with each payload.")] = (
        "k1"
    ),
) -> None:
    """Print a new AES-256 key for BOSETTING_PAYLOAD_KEYS (put it first to encrypt with it;
    keep the old ones after it while histories still need them)."""
    from workers.platform.codec import new_key

    print(f"{key_id}={new_key()}")


@app.command()
def topics() -> None:
    """Create the Kafka topics (case events, municipality feed, alerts) if missing (idempotent);
    the partitions and replication factor come from BOSETTING_KAFKA_*."""
    from workers.platform.kafka import provision_topics

    settings = Settings()
    names = [settings.kafka_topic, settings.kafka_feed_topic, settings.kafka_alerts_topic]
    asyncio.run(provision_topics(settings, *names))
    console.print(f"topics present on {settings.kafka_bootstrap_servers}: {', '.join(names)}")


@app.command("search-attributes")
def search_attributes() -> None:
    """Register the case search attributes on the Temporal namespace (idempotent)."""
    from workers.platform.temporal import connect, register_search_attributes
    from workflows import search_attributes as sa

    settings = Settings()

    async def main() -> None:
        await register_search_attributes(await connect(settings))

    asyncio.run(main())
    names = ", ".join(key.name for key in sa.ALL)
    console.print(f"registered on namespace {settings.temporal_namespace!r}: {names}")


@dev.command("up")
def dev_up() -> None:
    """Start Temporal, the broker, the case worker, the projection, the API and the monitor;
    Ctrl-C stops all."""
    from workers.processes.embedded import EmbeddedStack

    settings = Settings()
    configure_logging(settings, component="embedded")

    async def main(stop: asyncio.Event, ready: Callable[[], None]) -> None:
        async with EmbeddedStack(settings) as stack:
            console.print(
                f"[bold green]Bosetting is running[/]\n"
                f"  Temporal      {settings.temporal_address}  (UI http://127.0.0.1:{settings.temporal_ui_port})\n"
                f"  Kafka         {settings.kafka_bootstrap_servers}"
                f"  topic {settings.kafka_topic}\n"
                f"  register      {settings.register_url}\n"
                f"  projection    {settings.projection_url}\n"
                f"  API           http://{settings.api_host}:{settings.api_port}"
                "  (docs at /docs; tokens: bosetting tokens mint)\n"
                f"  monitor       http://127.0.0.1:{settings.monitor_port}/health and /metrics"
                "  (bosetting status)\n"
                f"  logs          {stack.logs}\n"
                "Press Ctrl-C to stop."
            )
            ready()
            await stop.wait()

    _run_until_signalled(main)


HOLDABLE = ("case-worker", "projection", "api", "monitor")


@dev.command("hold")
def dev_hold(
    part: Annotated[str, typer.Argument(help="case-worker, projection, api or monitor")],
) -> None:
    """Stop one part of the running `bosetting dev up` and keep it stopped (the supervisor
    would restart a part that merely exits), e.g. the projection before a rebuild."""
    _hold_or_release(part, hold=True)


@dev.command("release")
def dev_release(
    part: Annotated[str, typer.Argument(help="the part `bosetting dev hold` stopped")],
) -> None:
    """Start a held part of the running `bosetting dev up` again."""
    _hold_or_release(part, hold=False)


def _hold_or_release(part: str, *, hold: bool) -> None:
    from workers.processes.embedded import EmbeddedStack

    if part not in HOLDABLE:
        raise typer.BadParameter(f"must be one of {', '.join(HOLDABLE)}", param_hint="PART")
    stack = EmbeddedStack(Settings())
    if not stack.run_dir.exists():
        console.print("[red]error:[/] no `bosetting dev up` runs with this state folder")
        raise typer.Exit(1)
    request, marker = stack.hold_request(part), stack.held_marker(part)
    if hold:
        request.write_text("held by bosetting dev hold")
    else:
        request.unlink(missing_ok=True)
    deadline = time.monotonic() + 120
    with console.status(f"{'Holding' if hold else 'Releasing'} {part}…"):
        while marker.exists() != hold:
            if time.monotonic() > deadline:
                console.print(
                    f"[red]error:[/] the stack did not {'hold' if hold else 'release'} "
                    f"{part} within 120 s (is `bosetting dev up` running?)"
                )
                raise typer.Exit(1)
            time.sleep(0.2)
    if hold:
        console.print(f"{part} is stopped and stays so; `bosetting dev release {part}` starts it")
    else:
        console.print(f"{part} is running again")


def _period(
    year: int | None, period: str | None, start: date | None, end: date | None
) -> tuple[date, date]:
    from workers.figures.periods import BadValue, parse_period

    if sum(x is not None for x in (year, period, start or end)) > 1:
        raise typer.BadParameter("give one of --year, --period, or --from with --to")
    if start or end:
        if not (start and end):
            raise typer.BadParameter("give both --from and --to")
        if end < start:
            raise typer.BadParameter("--to must not be before --from")
        return start, end
    if period is not None:
        try:
            return parse_period(period)
        except BadValue as exc:
            raise typer.BadParameter(str(exc), param_hint="--period") from None
    y = year or datetime.now(UTC).year
    return date(y, 1, 1), date(y, 12, 31)


def _as_of(value: str | None) -> datetime | None:
    """A moment option (figures/periods.py: a date means the end of that day, UTC)."""
    from workers.figures.periods import BadValue, parse_moment

    if value is None:
        return None
    try:
        return parse_moment(value)
    except BadValue as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None


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
    first, last = _period(
        year,
        period,
        _iso_date(start, "--from") if start else None,
        _iso_date(end, "--to") if end else None,
    )
    known = _as_of(as_of)
    settings = Settings()
    municipalities = municipality_register(settings)

    def county_of(number: str, day: date) -> str:
        return municipalities.get(number, day).county_name

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
                        county_of,
                        settings.projection_group_id,
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
                    county_of=county_of,
                    definitions=definitions,
                )
            candidate = (
                await waiting_time(
                    sessions, first, last, as_of=known, county_of=county_of, definitions=compare
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

    day = _iso_date(on, "--on") if on else datetime.now(UTC).date()
    known = _as_of(as_of)
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


@app.command()
def demo(
    households: Annotated[int, typer.Option(min=1, max=20000, help="How many households.")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic cohort.")] = 2020,
    year: Annotated[int, typer.Option(help="Settlement year to report.")] = 2020,
    keep_state: Annotated[bool, typer.Option(help="Keep the previous demo's state.")] = False,
) -> None:
    """Start the embedded stack, drive synthetic households through the real workflows,
    wait for the projection to catch up, print the figures, stop everything."""
    settings = Settings()
    state_dir = settings.state_dir / "demo"
    if state_dir.exists() and not keep_state:
        shutil.rmtree(state_dir)
    settings = settings.model_copy(update={"state_dir": state_dir})
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}), component="demo")
    from workers.cli.demo import run_demo

    ok = _exit_on_stack_error(
        lambda: asyncio.run(run_demo(settings, households, seed, year, console))
    )
    raise typer.Exit(0 if ok else 1)


@app.command()
def simulate(
    year: Annotated[int, typer.Option(help="The reference year; 2020 is calibrated.")] = 2020,
    keep_state: Annotated[bool, typer.Option(help="Keep the previous run's state.")] = False,
) -> None:
    """Run a cohort calibrated to the 2020 reference figures through the embedded stack and
    print our figures beside the published ones."""
    if year != 2020:
        raise typer.BadParameter(
            "only 2020 has reference figures to calibrate to", param_hint="--year"
        )
    settings = Settings()
    state_dir = settings.state_dir / "simulate"
    if state_dir.exists() and not keep_state:
        shutil.rmtree(state_dir)
    settings = settings.model_copy(update={"state_dir": state_dir})
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}), component="simulate")
    from workers.cli.demo import run_simulation

    ok = _exit_on_stack_error(lambda: asyncio.run(run_simulation(settings, year, console)))
    raise typer.Exit(0 if ok else 1)


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

    def county_of(number: str, day: date) -> str:
        return municipalities.get(number, day).county_name

    async def main() -> int:
        engine = db.make_engine(settings.projection_url)
        try:
            result = await verify(db.sessionmaker(engine), name, report_json, county_of)
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


def main() -> None:
    """The console entry point. It ends the process with ``os._exit`` once the command is
    done and its output flushed: the Temporal client's Rust threads can abort an interpreter
    that is finalizing ("PyGILState_Release: thread state must be current", a known issue of
    short-lived client processes, temporalio/sdk-python#300)."""
    # Everything a Bosetting process writes (the state folder, its databases, keys and logs,
    # and what the embedded Temporal and broker write there) is for this user alone: the
    # register and Temporal's store hold birth dates.
    os.umask(0o077)
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except db.SchemaOutOfDate as exc:  # the operator's to fix: one line, no traceback
        console.print(f"[red]error:[/] {exc}")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    main()
