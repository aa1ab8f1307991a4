"""Municipalities' decided places and their use (``bosetting places``)."""

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.common import (
    console,
    iso_date,
)
from workers.platform.settings import Settings

if TYPE_CHECKING:
    from schemas.places import PlacesLedger
    from workers.services.places import PlacesService

app = typer.Typer()
places_app = typer.Typer(help="Municipalities' decided places and their use.", no_args_is_help=True)
app.add_typer(places_app, name="places")


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

    decided_on = iso_date(on, "--on")
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
