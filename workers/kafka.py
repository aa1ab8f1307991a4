"""Kafka plumbing shared by the processes: topic provisioning, the outbox relays' sink (the
case worker's event log, the projection process's municipality feed) and the high-water marks
the monitor measures lag against."""

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
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


async def high_water_marks(
    bootstrap_servers: str, topic: str, near: dict[int, int], *, timeout_s: float = 5.0
) -> dict[int, int]:
    """Each partition's high-water mark, from fetch responses (a groupless consumer fetching
    from ``near``, the offsets a consumer group stored). Fetch responses rather than
    ListOffsets: the embedded broker answers ListOffsets wrongly, and this works on both."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a stored offset beyond the end reads from the start
        max_partition_fetch_bytes=64 * 1024,
        request_timeout_ms=int(timeout_s * 1000),
    )
    await consumer.start()
    try:
        await consumer.topics()  # the metadata
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return {}
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, near.get(tp.partition, 0))
        marks: dict[int, int] = {}
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(marks) < len(partitions) and asyncio.get_running_loop().time() < deadline:
            await consumer.getmany(timeout_ms=200, max_records=1)
            for tp in partitions:
                mark = consumer.highwater(tp)
                if mark is not None:
                    marks[tp.partition] = mark
        return marks
    finally:
        await consumer.stop()
