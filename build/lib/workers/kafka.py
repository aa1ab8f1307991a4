"""Topic provisioning, shared by the publisher and the projection."""

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

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
