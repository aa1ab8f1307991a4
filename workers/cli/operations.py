"""Setting up and keeping a deployment: schemas, topics, search attributes, keys, the published
contracts, the system's status, and rebuilding after a broker lost its data."""

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from workers.cli.common import (
    console,
)
from workers.cli.render import progress_bar
from workers.platform import db
from workers.platform.settings import Settings

app = typer.Typer()
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the register and projection schemas to the newest version."""
    settings = Settings()

    async def main() -> None:
        await db.upgrade(settings.register_url, db.REGISTER)
        await db.upgrade(settings.projection_url, db.PROJECTION)

    asyncio.run(main())
    console.print("register and projection schemas are up to date")


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


@app.command("payload-key")
def payload_key(
    key_id: Annotated[
        str, typer.Option("--id", help="The key's id, kept with each payload or record.")
    ] = ("k1"),
) -> None:
    """Print a new AES-256 key for BOSETTING_PAYLOAD_KEYS or BOSETTING_TOPIC_KEYS (put it
    first to encrypt with it; keep the old ones after it while histories or the topic's
    records still need them)."""
    from workers.platform.codec import new_key

    print(f"{key_id}={new_key()}")


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
