"""The projection worker process."""

import asyncio
from collections.abc import Callable

import structlog

from .. import db
from ..kafka import ensure_topic
from ..settings import Settings
from .consumer import ProjectionConsumer

log = structlog.get_logger("projection")


async def run_projection(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    await db.upgrade(settings.projection_url, db.PROJECTION)
    await ensure_topic(
        settings.kafka_bootstrap_servers,
        settings.kafka_topic,
        settings.kafka_partitions,
        settings.kafka_replication_factor,
    )
    engine = db.make_engine(settings.projection_url)
    consumer = ProjectionConsumer(
        db.sessionmaker(engine),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.kafka_topic,
        group_id=settings.projection_group_id,
    )
    try:
        await consumer.run(stop, on_ready=on_ready)
    finally:
        await engine.dispose()
        log.info("projection stopped", applied=consumer.applied)
