"""The case worker: runs SettlementCaseWorkflow and its activities, and relays the event
log to Kafka (the outbox publisher) in the same process."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from activities.event_log import EventLogActivities
from activities.places import PlacesActivities
from activities.publisher import OutboxPublisher, logged_events
from workers.operations.activity_health import FailureRecorder
from workers.operations.heartbeat import beat_until
from workers.platform import db
from workers.platform.kafka import sink_connector
from workers.platform.settings import Settings
from workers.platform.temporal import connect
from workflows.municipality_places import MunicipalityPlacesWorkflow
from workflows.qualification import QualificationWorkflow
from workflows.settlement_case import SettlementCaseWorkflow

log = structlog.get_logger("case_worker")


def build_publisher(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> OutboxPublisher:
    return OutboxPublisher(
        sessions,
        sink_connector(settings, settings.kafka_topic),
        to_record=logged_events(settings.topic_seal()),
    )


def build_worker(
    client: Client,
    task_queue: str,
    record_case_events: Callable[..., Awaitable[object]],
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """What a case worker runs: both workflows and every activity they call. Tests build
    theirs here too, with a fake of the event log, so they cannot drift from production."""
    places = PlacesActivities(client)
    return Worker(
        client,
        task_queue=task_queue,
        interceptors=interceptors,
        workflows=[SettlementCaseWorkflow, QualificationWorkflow, MunicipalityPlacesWorkflow],
        activities=[
            record_case_events,
            places.reserve_places,
            places.release_places,
            places.use_places,
        ],
    )


async def run_case_worker(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    settings.topic_seal()  # refused before anything starts, not at the first event
    await db.require_current(settings.register_url, db.REGISTER)
    engine = db.make_engine(settings.register_url)
    sessions = db.sessionmaker(engine)
    publisher = build_publisher(settings, sessions)
    event_log = EventLogActivities(sessions, on_append=publisher.wake)
    client = await connect(settings, serve_metrics=True)
    worker = build_worker(
        client,
        settings.task_queue,
        event_log.record_case_events,
        interceptors=[FailureRecorder(sessions)],
    )
    publishing = asyncio.create_task(publisher.run(stop), name="outbox-publisher")
    beating = asyncio.create_task(beat_until(sessions, "case-worker", stop), name="heartbeat")
    async with worker:
        log.info("case worker ready", task_queue=settings.task_queue)
        if on_ready is not None:
            on_ready()
        await stop.wait()
    await asyncio.gather(publishing, beating)
    await engine.dispose()
