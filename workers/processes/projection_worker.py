"""The projection worker process: the figures' read model and the municipality feed, each a
consumer group of its own on the case-events topic, and the relay of the feed to its topic.

It lives outside ``workers.projection`` because it wires that package to the outbox relay it
shares with the case worker; the projection itself imports nothing of Temporal's side."""

import asyncio
from collections.abc import Callable

import structlog
from prometheus_client import CollectorRegistry, start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.publisher import OutboxPublisher
from workers.operations.heartbeat import beat_until
from workers.platform import db
from workers.platform.kafka import client_security, provision_topics, sink_connector
from workers.platform.settings import CannotStart, Settings, port_taken
from workers.projection.consumer import ProjectionConsumer, tune_garbage_collector
from workers.projection.feed import apply_feed_events, feed_record, for_the_topic
from workers.projection.instruments import BatchMetrics
from workers.projection.store import FeedEvent

log = structlog.get_logger("projection")


async def run_projection(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    tune_garbage_collector()
    seal = settings.topic_seal()
    await db.require_current(settings.projection_url, db.PROJECTION)
    await db.require_current(settings.register_url, db.REGISTER)  # the heartbeat's table
    registry = CollectorRegistry()
    server = None
    if settings.projection_metrics_port:  # this process's own work; the figures: the monitor
        host, port = settings.metrics_host, settings.projection_metrics_port
        try:
            server, _ = start_http_server(port, addr=host, registry=registry)
        except OSError:
            raise CannotStart(port_taken(host, port, "projection_metrics_port")) from None
        log.info("prometheus metrics served", port=port)
    await provision_topics(settings, settings.kafka_topic)
    engine = db.make_engine(settings.projection_url)
    sessions = db.sessionmaker(engine)
    metrics = BatchMetrics(registry)
    consumer = ProjectionConsumer(
        sessions,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.kafka_topic,
        group_id=settings.projection_group_id,
        metrics=metrics,
        security=client_security(settings),
        seal=seal,
    )
    feed = ProjectionConsumer(
        sessions,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=settings.kafka_topic,
        group_id=settings.feed_group_id,
        apply=apply_feed_events,
        metrics=metrics,
        security=client_security(settings),
        seal=seal,
    )
    register = db.make_engine(settings.register_url)
    beating = asyncio.create_task(
        beat_until(db.sessionmaker(register), "projection", stop), name="heartbeat"
    )
    feeding = asyncio.create_task(feed.run(stop), name="municipality-feed")
    relaying = asyncio.create_task(feed_publisher(settings, sessions).run(stop), name="feed-relay")
    try:
        await consumer.run(stop, on_ready=on_ready)
    finally:
        stop.set()
        await asyncio.gather(feeding, relaying, beating, return_exceptions=True)
        if server is not None:
            server.shutdown()
        await engine.dispose()
        await register.dispose()
        log.info("projection stopped", applied=consumer.applied)


def feed_publisher(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> OutboxPublisher:
    """The event log's outbox relay, pointed at the feed table and the feed topic."""
    return OutboxPublisher(
        sessions,
        sink_connector(settings, settings.kafka_feed_topic),
        table=FeedEvent,
        to_record=feed_record,
        pending=for_the_topic(),
    )
