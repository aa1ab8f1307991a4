"""What the commands share: the console, date and period options parsed as the API parses
them (workers/figures/periods.py), and running a long-lived part until it is signalled."""

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from workers.figures.periods import BadValue, parse_day, parse_moment, parse_period
from workers.platform.logging import configure_logging
from workers.platform.settings import CannotStart, Settings

if TYPE_CHECKING:
    from workers.api.auth import Principal

console = Console()
if not console.is_terminal:
    console.width = 110  # tables in logs and pipes: wide enough not to wrap


def iso_date(value: str, option: str) -> date:
    """A date option, or a usage error that names the option and the rule."""
    try:
        return parse_day(value)
    except BadValue as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def period_of(
    year: int | None, period: str | None, start: date | None, end: date | None
) -> tuple[date, date]:
    """The period the options give: a year, a period (2020, 2020-Q3, 12m:2020-12), or a
    first and last day; this year by default."""
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


def moment_of(value: str | None) -> datetime | None:
    """A moment option (figures/periods.py: a date means the end of that day, UTC)."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except BadValue as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None


def run_until_signalled(
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
        exit_on_stack_error(lambda: asyncio.run(runner()))
    finally:
        shutdown_tracing()


def run_part(
    component: str,
    run: Callable[[Settings, asyncio.Event, Callable[[], None]], Awaitable[None]],
) -> None:
    """A long-running part: its settings, its logs and traces, until signalled."""
    settings = Settings()
    configure_logging(settings, component=component)
    run_until_signalled(lambda stop, ready: run(settings, stop, ready))


def exit_on_stack_error(run: Callable[[], object]) -> object:
    """A part of the embedded stack that cannot start is the user's to fix: say what and
    where, without a traceback."""
    from workers.processes.embedded import StackError

    try:
        return run()
    except (StackError, CannotStart) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None


def cli_reader() -> "Principal":
    """The command line as a reader of personal records: an operator with database access,
    cleared, audited under ``cli:<user>`` (the login name)."""
    from schemas.enums import Role
    from workers.api.auth import Principal

    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
    return Principal(subject=f"cli:{user}", role=Role.ADMINISTRATOR, cleared=True)


def web_app_url(settings: Settings) -> str:
    """Where the casework web app answers (served by the API process)."""
    return f"http://{settings.api_host}:{settings.api_port}/app"


def web_app_hint(settings: Settings) -> str:
    """What the demo says last: how to work cases in the web app."""
    return (
        f"Work cases in the web app: run `bosetting dev up`, then open {web_app_url(settings)} "
        "and sign in with the development role picker."
    )
