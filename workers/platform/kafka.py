"""Kafka plumbing shared by the processes: topic provisioning, the outbox relays' sink (the
case worker's event log, the projection process's municipality feed) and the ends of the topic
the monitor measures lag against."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from activities.kafka_sink import KafkaSink
from activities.publisher import EventSink
from workers.platform.settings import Settings

log = structlog.get_logger("kafka")


def client_security(settings: Settings) -> dict[str, Any]:
    """How every Kafka client of ours authenticates and encrypts, as aiokafka's keyword
    arguments (the same for producers, consumers and the admin client)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None,
            certfile=str(settings.kafka_ssl_certfile) if settings.kafka_ssl_certfile else None,
            keyfile=str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    if protocol.startswith("SASL"):
        assert settings.kafka_sasl_password is not None  # the settings' validator saw to it
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    return options


async def ensure_topic(
    bootstrap_servers: str,
    topic: str,
    partitions: int,
    replication_factor: int,
    security: Mapping[str, Any] | None = None,
) -> None:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **(security or {})
    )
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


async def provision_topics(settings: Settings, *topics: str) -> None:
    """Create the topics that are missing, with the configured partitions and replication."""
    for topic in topics:
        await ensure_topic(
            settings.kafka_bootstrap_servers,
            topic,
            settings.kafka_partitions,
            settings.kafka_replication_factor,
            client_security(settings),
        )


def sink_connector(settings: Settings, topic: str) -> Callable[[], Awaitable[EventSink]]:
    """How an outbox relay connects to ``topic``: provisioned on every (re)connect, since a
    broker that lost its data comes back empty."""

    async def connect() -> EventSink:
        await provision_topics(settings, topic)
        return await KafkaSink.connect(
            settings.kafka_bootstrap_servers,
            topic,
            enable_idempotence=settings.kafka_idempotent_producer,
            security=client_security(settings),
        )

    return connect


@dataclass(frozen=True)
class TopicEnd:
    """Where a topic's partitions end, and when the first record a reader has not read yet
    was written (per partition, where there is one)."""

    high_water: dict[int, int]
    first_unread_ms: dict[int, int]


async def topic_end(
    bootstrap_servers: str,
    topic: str,
    positions: dict[int, int],
    *,
    timeout_s: float = 5.0,
    security: Mapping[str, Any] | None = None,
) -> TopicEnd:
    """Each partition's high-water mark and the timestamp of the record at ``positions`` (a
    consumer group's stored offsets), fetched by a groupless consumer. From fetch responses
    rather than ListOffsets: the embedded broker answers ListOffsets wrongly; this works on
    both."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a stored offset beyond the end reads from the start
        max_partition_fetch_bytes=64 * 1024,
        request_timeout_ms=int(timeout_s * 1000),
        **(security or {}),
    )
    await consumer.start()
    try:
        await consumer.topics()  # the metadata
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return TopicEnd({}, {})
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, positions.get(tp.partition, 0))
        marks: dict[int, int] = {}
        first: dict[int, int] = {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s

        def done() -> bool:
            return len(marks) == len(partitions) and all(
                p in first or positions.get(p, 0) >= mark for p, mark in marks.items()
            )

        while not done() and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, records in batch.items():
                if records:
                    first.setdefault(tp.partition, records[0].timestamp)
                consumer.pause(tp)  # one record a partition is enough
            for tp in partitions:
                mark = consumer.highwater(tp)
                if mark is not None:
                    marks[tp.partition] = mark
        return TopicEnd(marks, first)
    finally:
        await consumer.stop()
