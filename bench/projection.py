"""``make bench``: how fast the projection turns the stream into figures, as ratios against
the raw consume rate measured in the same run on the same broker (the machines are shared and
noisy; only ratios travel).

1. Produce N synthetic case events to a fresh topic on the embedded broker.
2. Raw consume: read them all with aiokafka, doing nothing else. This is the baseline.
   Then consume and parse: the same reads, each record opened (the topic seal) and parsed
   into a validated case event as the projection does first. Shown for the ceiling it puts
   on any projection of them.
3. Projection into SQLite, then into PostgreSQL: the same reads, each batch applied exactly
   once (rows, positions and applied event ids in one transaction), as the projection does.
4. Freshness: produce at a steady rate while the SQLite projection runs, and take, per event,
   the time from its send to the commit of the batch that applied it (p50, p99).

Loopback only; everything it starts it stops."""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.table import Table

from schemas.envelope import from_kafka, to_kafka
from schemas.events import (
    CaseEvent,
    EventPerson,
    PersonSettled,
    ResidencePermitGranted,
    SettlementInterviewHeld,
)
from tests.ports import free_port
from tests.postgres import PostgresServer
from workers.platform import db
from workers.platform.codec import TopicSeal, new_key, parse_keys
from workers.platform.kafka import ensure_topic
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings
from workers.processes.embedded import EmbeddedStack
from workers.projection.apply import apply_batch
from workers.projection.batch import Record
from workers.projection.consumer import tune_garbage_collector

PARTITIONS = 6
SENT_HEADER = "bench-sent-ns"
SEAL = TopicSeal(parse_keys(f"bench={new_key()}", "topic_keys"))
"""Records are sealed on the topic as the case worker seals them, so parsing and the
projection pay for opening them as the projection does."""


def bench_events(count: int) -> list[CaseEvent]:
    """Households of two: permit, interview and two settlements, until ``count`` events."""
    events: list[CaseEvent] = []
    now = datetime.now(UTC)
    household = 0
    while len(events) < count:
        case_id = f"bench-{household:07d}"
        permit = date(2020, 1, 1) + timedelta(days=household % 300)
        persons = [
            EventPerson(person_id=f"{case_id}-p{i}", protected_identity=False) for i in (0, 1)
        ]
        steps = [
            (permit, ResidencePermitGranted(case_type="reception", persons=persons)),
            (permit + timedelta(days=20), SettlementInterviewHeld()),
            *(
                (
                    permit + timedelta(days=60 + household % 200),
                    PersonSettled(
                        person_id=p.person_id,
                        category="family_with_children" if household % 2 else "other_adult",
                        protected_identity=False,
                        case_type="reception",
                        permit_date=permit,
                        municipality_number="0301",
                    ),
                )
                for p in persons
            ),
        ]
        for sequence, (day, data) in enumerate(steps, 1):
            events.append(
                CaseEvent(
                    event_id=uuid.uuid4(),
                    case_id=case_id,
                    sequence=sequence,
                    business_date=day,
                    recorded_at=now,
                    data=data,
                )
            )
        household += 1
    return events[:count]


async def produce(bootstrap: str, topic: str, events: list[CaseEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=262144)
    await producer.start()
    try:
        pending = []
        for event in events:
            k = to_kafka(event, seal=SEAL)
            pending.append(await producer.send(topic, k.value, key=k.key, headers=list(k.headers)))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


OnBatch = Callable[[list[Record]], Awaitable[None]]


async def consume(bootstrap: str, topic: str, expected: int, on_batch: OnBatch) -> float:
    """Read ``expected`` records from the beginning of every partition, handing each batch to
    ``on_batch``; returns the seconds from the first fetch to the last batch handled."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        for tp in partitions:
            await consumer.seek_to_beginning(tp)
        seen, started = 0, time.perf_counter()
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            records = [
                Record(m.partition, m.offset, list(m.headers or ()), m.value or b"")
                for messages in batch.values()
                for m in messages
            ]
            if records:
                await on_batch(records)
                seen += len(records)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def raw_rate(bootstrap: str, topic: str, expected: int) -> float:
    async def nothing(records: list[Record]) -> None:
        return None

    return expected / await consume(bootstrap, topic, expected, nothing)


async def parse_rate(bootstrap: str, topic: str, expected: int) -> float:
    async def parse(records: list[Record]) -> None:
        for r in records:
            from_kafka(r.headers, r.value, SEAL)

    return expected / await consume(bootstrap, topic, expected, parse)


async def projection_rate(bootstrap: str, topic: str, expected: int, url: str) -> float:
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)

    async def project(records: list[Record]) -> None:
        async with sessions.begin() as session:
            await apply_batch(session, "bench", topic, records, {}, seal=SEAL)

    try:
        return expected / await consume(bootstrap, topic, expected, project)
    finally:
        await engine.dispose()


async def freshness(
    bootstrap: str, topic: str, url: str, rate: int, seconds: int
) -> tuple[float, float]:
    """p50 and p99 seconds from send to the commit that applied the event."""
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    latencies: list[float] = []
    total = rate * seconds

    async def project(records: list[Record]) -> None:
        async with sessions.begin() as session:
            await apply_batch(session, "bench", topic, records, {}, seal=SEAL)
        done = time.monotonic_ns()
        for r in records:
            sent = dict(r.headers).get(SENT_HEADER)
            if sent is not None:
                latencies.append((done - int(sent)) / 1e9)

    async def steady() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
        await producer.start()
        try:
            events = bench_events(total)
            start = time.monotonic()
            for i, event in enumerate(events):
                due = start + i / rate
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                k = to_kafka(event, seal=SEAL)
                headers = [*k.headers, (SENT_HEADER, str(time.monotonic_ns()).encode())]
                await producer.send(topic, k.value, key=k.key, headers=headers)
            await producer.flush()
        finally:
            await producer.stop()

    try:
        consuming = asyncio.create_task(consume(bootstrap, topic, total, project))
        await steady()
        await consuming
    finally:
        await engine.dispose()
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


@dataclass
class Results:
    events: int
    raw_events_per_s: float
    parse_events_per_s: float
    sqlite_events_per_s: float
    postgres_events_per_s: float
    parse_ratio: float
    sqlite_ratio: float
    postgres_ratio: float
    steady_rate: int
    freshness_p50_s: float
    freshness_p99_s: float


async def run(events: int, rate: int, seconds: int) -> Results:
    tune_garbage_collector()  # as the projection's process does; the baseline runs with it too
    root = Path(tempfile.mkdtemp(prefix="bosetting-bench-"))
    bootstrap = f"127.0.0.1:{free_port()}"
    settings = Settings(state_dir=root, kafka_bootstrap_servers=bootstrap)
    stack = EmbeddedStack(settings)
    postgres = PostgresServer()
    await stack.start(parts=("broker",))
    postgres.start()
    try:
        for topic in ("bench-sqlite", "bench-freshness"):
            await ensure_topic(bootstrap, topic, PARTITIONS, 1)
        await produce(bootstrap, "bench-sqlite", bench_events(events))
        raw = await raw_rate(bootstrap, "bench-sqlite", events)
        parsed = await parse_rate(bootstrap, "bench-sqlite", events)
        sqlite = await projection_rate(
            bootstrap, "bench-sqlite", events, f"sqlite+aiosqlite:///{root / 'bench.db'}"
        )
        pg_url = await postgres.new_database()
        pg = await projection_rate(bootstrap, "bench-sqlite", events, pg_url)
        p50, p99 = await freshness(
            bootstrap, "bench-freshness", f"sqlite+aiosqlite:///{root / 'fresh.db'}", rate, seconds
        )
    finally:
        postgres.stop()
        await stack.stop()
    return Results(
        events=events,
        raw_events_per_s=raw,
        parse_events_per_s=parsed,
        sqlite_events_per_s=sqlite,
        postgres_events_per_s=pg,
        parse_ratio=parsed / raw,
        sqlite_ratio=sqlite / raw,
        postgres_ratio=pg / raw,
        steady_rate=rate,
        freshness_p50_s=p50,
        freshness_p99_s=p99,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rate", type=int, default=1_000, help="steady events/s for freshness")
    parser.add_argument("--seconds", type=int, default=15, help="how long to hold that rate")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    configure_logging(Settings(log_level="WARNING"), component="bench")  # stdout is the result
    results = asyncio.run(run(args.events, args.rate, args.seconds))
    if args.json:
        print(json.dumps(asdict(results), indent=2))
        return
    table = Table(title=f"Projection benchmark, {results.events:,} events (same broker, same run)")
    table.add_column("What")
    table.add_column("Result", justify="right")
    table.add_row("raw consume (baseline)", f"{results.raw_events_per_s:,.0f} events/s")
    table.add_row(
        "consume + parse (the ceiling)",
        f"{results.parse_events_per_s:,.0f} events/s = {results.parse_ratio:.2f} × raw",
    )
    table.add_row(
        "projection into SQLite",
        f"{results.sqlite_events_per_s:,.0f} events/s = {results.sqlite_ratio:.2f} × raw",
    )
    table.add_row(
        "projection into PostgreSQL",
        f"{results.postgres_events_per_s:,.0f} events/s = {results.postgres_ratio:.2f} × raw",
    )
    table.add_row(
        f"freshness at {results.steady_rate:,} events/s (SQLite)",
        f"p50 {results.freshness_p50_s * 1000:.0f} ms, p99 {results.freshness_p99_s * 1000:.0f} ms",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
