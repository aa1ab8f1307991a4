"""The projection worker process."""

import asyncio
from collections.abc import Callable

import structlog
from prometheus_client import CollectorRegistry, start_http_server

from .. import db
from ..kafka import ensure_topic
from ..settings import Settings
from .consumer import ProjectionConsumer
from .exporter import FiguresExporter

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
    server = None
    exporting: asyncio.Task[None] | None = None
    if settings.projection_metrics_port:
        registry = CollectorRegistry()
        exporter = FiguresExporter(db.sessionmaker(engine), registry)
        server, _ = start_http_server(
            settings.projection_metrics_port, addr="127.0.0.1", registry=registry
        )
        exporting = asyncio.create_task(
            exporter.run(stop, settings.projection_metrics_interval_s), name="figures-exporter"
        )
        log.info("prometheus metrics served", port=settings.projection_metrics_port)
    try:
        await consumer.run(stop, on_ready=on_ready)
    finally:
        if exporting is not None:
            stop.set()
            await exporting
        if server is not None:
            server.shutdown()
        await engine.dispose()
        log.info("projection stopped", applied=consumer.applied)
