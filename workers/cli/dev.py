"""The embedded stack on this machine (``bosetting dev``) and development tokens for its API
(``bosetting tokens``)."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from workers.cli.common import (
    console,
    run_until_signalled,
    web_app_url,
)
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings

app = typer.Typer()
dev = typer.Typer(help="The embedded stack on this machine.", no_args_is_help=True)
app.add_typer(dev, name="dev")
tokens_app = typer.Typer(help="Development tokens for the API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@dev.command("up")
def dev_up() -> None:
    """Start Temporal, the broker, the case worker, the projection, the API and the monitor;
    Ctrl-C stops all."""
    from workers.processes.embedded import EmbeddedStack

    settings = Settings()
    configure_logging(settings, component="embedded")

    async def main(stop: asyncio.Event, ready: Callable[[], None]) -> None:
        async with EmbeddedStack(settings) as stack:
            console.print(running_banner(settings, stack.logs))
            ready()
            await stop.wait()

    run_until_signalled(main)


def running_banner(settings: Settings, logs: Path) -> str:
    """What `bosetting dev up` prints once everything runs: where each part answers."""
    return (
        f"[bold green]Bosetting is running[/]\n"
        f"  Temporal      {settings.temporal_address}  (UI http://127.0.0.1:{settings.temporal_ui_port})\n"
        f"  Kafka         {settings.kafka_bootstrap_servers}"
        f"  topic {settings.kafka_topic}\n"
        f"  register      {settings.register_url}\n"
        f"  projection    {settings.projection_url}\n"
        f"  web app       {web_app_url(settings)}"
        "  (sign in with the development role picker)\n"
        f"  API           http://{settings.api_host}:{settings.api_port}"
        "  (docs at /docs; tokens: bosetting tokens mint)\n"
        f"  monitor       http://127.0.0.1:{settings.monitor_port}/health and /metrics"
        "  (bosetting status)\n"
        f"  logs          {logs}\n"
        "Press Ctrl-C to stop."
    )


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
