"""The demo: synthetic households driven through the real workflows, the way staff would."""

import asyncio
from datetime import date

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.events import PLACES_EVENTS, CaseEvent, PersonSettled
from workers.allocation.municipalities import configured as municipality_register
from workers.cli.render import (
    beside_published_table,
    places_table,
    progress_bar,
    report_table,
    steering_table,
    stock_table,
)
from workers.figures.metrics import SettledFact, WaitingTimeReport
from workers.figures.queries import projection_status, waiting_on, waiting_time
from workers.figures.report import build_report
from workers.platform import db
from workers.platform.register import EventLogRow
from workers.platform.settings import Settings
from workers.platform.temporal import connect
from workers.processes.embedded import EmbeddedStack
from workers.services.cases import CaseService
from workers.services.places import PlacesService
from workers.services.plans import HouseholdPlan, drive, ensure_places, places_recorded
from workers.simulation.cohort2020 import REFERENCE_2020, generate_2020
from workers.simulation.synthetic import generate


async def event_log_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(EventLogRow)) or 0)


async def places_event_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Events of the places streams (council decisions, requests) in the log."""
    names = [model.__name__ for model in PLACES_EVENTS]
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(EventLogRow).where(EventLogRow.event_type.in_(names))
        )
        return int(found or 0)


async def report_from_event_log(
    sessions: async_sessionmaker[AsyncSession], period_start: date, period_end: date
) -> WaitingTimeReport:
    """The same figures straight from the system of record, bypassing Kafka and the
    projection: the demo shows both agree."""
    async with sessions() as session:
        rows = await session.scalars(
            select(EventLogRow.payload)
            .where(EventLogRow.event_type.in_(["PersonSettled", "CompetenceMappingRecorded"]))
            .order_by(EventLogRow.position)
        )
        events = [CaseEvent.model_validate_json(payload) for payload in rows]
    mapped: dict[str, date] = {}
    for event in events:
        if event.type == "CompetenceMappingRecorded":
            mapped.setdefault(event.case_id, event.business_date)
    facts = [
        SettledFact.of(event.case_id, event.data, event.business_date, mapped.get(event.case_id))
        for event in events
        if isinstance(event.data, PersonSettled)
    ]
    return build_report(facts, period_start, period_end)


async def run_demo(
    settings: Settings, households: int, seed: int, year: int, console: Console
) -> bool:
    """The demo: a synthetic cohort of every track (workers/simulation/synthetic.py)."""
    plans = generate(households, seed=seed, year=year)
    return await run_cohort(settings, plans, year, console)


async def run_simulation(settings: Settings, year: int, console: Console) -> bool:
    """The cohort calibrated to the 2020 reference figures
    (workers/simulation/cohort2020.py); prints our figures beside the published ones."""
    return await run_cohort(settings, generate_2020(year), year, console, REFERENCE_2020)


async def run_cohort(
    settings: Settings,
    plans: list[HouseholdPlan],
    year: int,
    console: Console,
    published: dict[str, float] | None = None,
) -> bool:
    """Start the embedded stack, drive the households through the real workflows, wait for
    the projection to catch up, print the figures and the places, stop everything. True when
    the projection equals the event log."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    progress = progress_bar(console)
    with console.status("Starting Temporal, the broker, the case worker and the projection…"):
        stack = EmbeddedStack(settings)
        await stack.start(parts=("temporal", "broker", "case-worker", "projection"))
    try:
        client = await connect(settings)
        service = CaseService(client, settings.task_queue)
        municipalities = municipality_register(settings)
        places = PlacesService(client, settings.task_queue, municipalities)
        await ensure_places(places, plans, requested_factor=1.25, label="demo")
        register = db.make_engine(settings.register_url)
        projection = db.make_engine(settings.projection_url)
        with progress:
            cases = progress.add_task("Households through their workflows", total=len(plans))
            await drive(service, plans, on_done=lambda: progress.advance(cases))
            await places_recorded(places, plans)
            # The households' events, and the places streams' (decisions, places taken).
            expected_events = sum(p.event_count for p in plans) + await places_event_count(
                db.sessionmaker(register)
            )
            projected = progress.add_task("Events projected from Kafka", total=expected_events)
            while True:
                status = await projection_status(db.sessionmaker(projection))
                progress.update(projected, completed=status.applied_events)
                if status.applied_events >= expected_events:
                    break
                await asyncio.sleep(0.3)
        logged = await event_log_count(db.sessionmaker(register))
        report = await waiting_time(db.sessionmaker(projection), first, last)
        stock = await waiting_on(db.sessionmaker(projection), last)
        from_log = await report_from_event_log(db.sessionmaker(register), first, last)
        numbers = sorted({a.municipality_number for p in plans for a in p.allocations})
        ledgers = [await places.ledger(number, year) for number in numbers]
        await register.dispose()
        await projection.dispose()
    finally:
        with console.status("Stopping…"):
            await stack.stop()
    console.print(report_table(report))
    console.print(steering_table(report))
    console.print(stock_table(stock))
    if published is not None:
        console.print(beside_published_table(report, stock, published))
    console.print(places_table(ledgers, municipalities, year))
    agree = report == from_log and logged == expected_events
    console.print(
        f"{len(plans)} households, {expected_events} events: {logged} in the event log, "
        f"{status.applied_events} projected, {status.dead_letters} dead letters. "
        + (
            "[green]Projection equals the event log.[/]"
            if agree
            else "[red]Projection and event log DIFFER.[/]"
        )
    )
    return agree
