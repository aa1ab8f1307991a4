"""The demo and the 2020 simulation on the embedded stack (``bosetting demo``, ``bosetting
simulate``); what they drive and print is in demo.py."""

import asyncio
import shutil
from typing import Annotated

import typer

from workers.cli.common import (
    console,
    exit_on_stack_error,
    web_app_hint,
)
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings

app = typer.Typer()


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

    ok = exit_on_stack_error(
        lambda: asyncio.run(run_demo(settings, households, seed, year, console))
    )
    console.print(web_app_hint(Settings()), markup=False)
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

    ok = exit_on_stack_error(lambda: asyncio.run(run_simulation(settings, year, console)))
    raise typer.Exit(0 if ok else 1)
