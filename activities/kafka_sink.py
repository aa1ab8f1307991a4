"""The Kafka side of the outbox publisher: an aiokafka producer that sends CloudEvents."""

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.envelope import KafkaRecord


class KafkaSink:
    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    @classmethod
    async def connect(
        cls,
        bootstrap_servers: str,
        topic: str,
        *,
        enable_idempotence: bool,
        security: Mapping[str, Any] | None = None,
    ) -> "KafkaSink":
        """``security``: the client's TLS and SASL options (workers/kafka.py)."""
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
        return cls(producer, topic)

    async def send_all(self, records: list[KafkaRecord]) -> None:
        futures = [
            await self._producer.send(self._topic, r.value, key=r.key, headers=r.headers)
            for r in records
        ]
        await asyncio.gather(*futures)

    async def close(self) -> None:
        await self._producer.stop()
