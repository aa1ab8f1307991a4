"""The long-running parts, one process each: the case worker, the projection, the API and the
monitor (``bosetting dev up`` runs them all on one machine)."""

import typer

from workers.cli.common import (
    console,
    run_part,
)
from workers.platform.settings import Settings

app = typer.Typer()


@app.command()
def worker() -> None:
    """Run the case worker: settlement workflows, their activities, the outbox publisher."""
    from workers.processes.case_worker import run_case_worker

    run_part("case-worker", run_case_worker)


@app.command()
def projection() -> None:
    """Run the projection worker: case events from Kafka into the waiting-time read model."""
    from workers.processes.projection_worker import run_projection

    run_part("projection", run_projection)


@app.command()
def api() -> None:
    """Run the HTTP API (FastAPI): every step of a case, each role's view, the figures."""
    from workers.allocation.suggestions import ProfileError, load_profiles
    from workers.api.server import NoTokenKeys, run_api, token_keys

    settings = Settings()
    try:
        token_keys(settings)  # said in one line here, before the part's logging starts
        if settings.municipality_profiles_file:
            load_profiles(settings.municipality_profiles_file)
    except (NoTokenKeys, ProfileError, OSError) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    run_part("api", run_api)


@app.command()
def monitor() -> None:
    """Run the monitor: the status checks every few seconds as Prometheus metrics
    (/metrics), a health endpoint (/health) and alert events (the alerts topic and the log)."""
    from workers.processes.monitor import run_monitor

    run_part("monitor", run_monitor)
