"""Each projection process's own work (events applied, time per batch), counted in memory
without a query, as Prometheus metrics; Prometheus sums them across replicas."""

from prometheus_client import CollectorRegistry, Counter, Histogram


class BatchMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "bosetting_projection_events",
            "Events this process applied, per consumer group.",
            ["consumer"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "bosetting_projection_batch_seconds",
            "Time to apply and commit one batch, per consumer group.",
            ["consumer"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )

    def observe(self, consumer: str, applied: int, seconds: float) -> None:
        self.events.labels(consumer).inc(applied)
        self.batch_seconds.labels(consumer).observe(seconds)
