"""Topic provisioning and the outbox relays' Kafka side, shared by the case worker (the event
log) and the projection process (the municipality feed)."""

from collections.abc import Awaitable, Callable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from activities.kafka_sink import KafkaSink
from activities.publisher import EventSink

from .settings import Settings

log = structlog.get_logger("kafka")


async def ensure_topic(
    bootstrap_servers: str, topic: str, partitions: int, replication_factor: int
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        if topic in await admin.list_topics():
            return
        try:
            await admin.create_topics(
                [NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor)]
            )
            log.info("topic created", topic=topic, partitions=partitions)
        except TopicAlreadyExistsError:
            pass
    finally:
        await admin.close()


def sink_connector(settings: Settings, topic: str) -> Callable[[], Awaitable[EventSink]]:
    """How an outbox relay connects to ``topic``: provisioned on every (re)connect, since a
    broker that lost its data comes back empty."""

    async def connect() -> EventSink:
        await ensure_topic(
            settings.kafka_bootstrap_servers,
            topic,
            settings.kafka_partitions,
            settings.kafka_replication_factor,
        )
        return await KafkaSink.connect(
            settings.kafka_bootstrap_servers,
            topic,
            enable_idempotence=settings.kafka_idempotent_producer,
        )

    return connect
