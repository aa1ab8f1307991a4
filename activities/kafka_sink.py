"""The Kafka side of the outbox publisher: an aiokafka producer that sends CloudEvents."""

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.envelope import KafkaRecord


class TopicChanged(RuntimeError):
    """The topic is missing, or has other partitions than provisioned: the broker lost it
    (and may have made it again on the fly). What it acknowledged may be gone too."""


class KafkaSink:
    def __init__(
        self, producer: AIOKafkaProducer, topic: str, partitions: int | None = None
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._partitions = partitions

    @classmethod
    async def connect(
        cls,
        bootstrap_servers: str,
        topic: str,
        *,
        enable_idempotence: bool,
        security: Mapping[str, Any] | None = None,
    ) -> "KafkaSink":
        """``security``: the client's TLS and SASL options (workers/platform/kafka.py)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            **(security or {}),
            acks="all",
            # Idempotence stops broker-side duplicates on Apache Kafka; the embedded broker
            # refuses it, and consumers dedupe by event id either way.
            enable_idempotence=enable_idempotence,
            linger_ms=5,
            request_timeout_ms=15000,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        sink = cls(producer, topic)
        try:
            # The topic as it is now, just provisioned: later checks hold it to that.
            sink._partitions = await sink._check_topic()
        except BaseException:
            await producer.stop()
            raise
        return sink

    async def send_all(self, records: list[KafkaRecord]) -> None:
        """Send and wait for every acknowledgement, with the topic as provisioned before and
        after: a broker that restarted empty acknowledges records into a topic that is not
        there (the embedded one does), so an acknowledgement alone proves nothing. Raising
        TopicChanged leaves the rows unpublished; the relay connects again, which provisions
        the topic, and sends them again."""
        await self._check_topic()
        futures = [
            await self._producer.send(self._topic, r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        await asyncio.gather(*futures)
        await self._check_topic()

    async def _check_topic(self) -> int:
        """The topic's partition count, if it is there with the count it had at connect."""
        cluster = await self._producer.client.fetch_all_metadata()
        found = cluster.partitions_for_topic(self._topic)
        if not found:
            raise TopicChanged(f"topic {self._topic} is missing")
        if self._partitions is not None and len(found) != self._partitions:
            raise TopicChanged(
                f"topic {self._topic} has {len(found)} partitions, not the "
                f"{self._partitions} it had when the relay connected"
            )
        return len(found)

    async def close(self) -> None:
        await self._producer.stop()
