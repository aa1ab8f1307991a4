"""``make bench`` (step to queue): how long an accepted step takes to show in the work queues,
through every part of the real embedded stack — the workflow's update, the event log, the
relay to the broker, the projection, the case register.

Households are opened first; then settlement interviews are sent at a steady rate (``--rate``
steps/s, 50 by default, for ``--seconds``), and each is timed from the moment its update was
accepted to the moment the register shows the household settlement-ready (the allocation
queue's filter), polled every 10 ms. p50 and p99 are reported, with the register and the
read model in the embedded stack's SQLite files or (``--database postgresql``) in a throwaway
PostgreSQL. Loopback only; it stops what it starts."""

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from schemas.commands import GrantPermit, PersonRecord, RecordSettlementInterview
from schemas.enums import CaseStage, CaseType
from tests.ports import free_port
from tests.postgres import PostgresServer
from workers.platform import db
from workers.platform.fanout import for_each
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings
from workers.platform.temporal import connect
from workers.processes.embedded import EmbeddedStack
from workers.projection.store import RegisteredCase
from workers.services.cases import CaseService

POLL_S = 0.01


@dataclass
class FreshnessResults:
    database: str
    rate: int
    steps: int
    p50_s: float
    p99_s: float


async def run(rate: int, seconds: int, database: str, console: Console) -> FreshnessResults:
    root = Path(tempfile.mkdtemp(prefix="bosetting-bench-steps-"))
    postgres = PostgresServer() if database == "postgresql" else None
    urls: dict[str, str] = {}
    if postgres:
        postgres.start()
        urls = {
            "register_database_url": await postgres.new_database(),
            "projection_database_url": await postgres.new_database(),
        }
    settings = Settings(
        **urls,  # type: ignore[arg-type]
        state_dir=root,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        api_port=free_port(),
        monitor_port=free_port(),
        worker_metrics_port=free_port(),
        projection_metrics_port=free_port(),
    )
    stack = EmbeddedStack(settings)
    count = rate * seconds
    today = datetime.now(UTC).date()
    await stack.start(parts=("temporal", "broker", "case-worker", "projection"))
    engine = db.make_engine(settings.projection_url)
    try:
        cases = CaseService(await connect(settings), settings.task_queue)
        ids = [f"fresh-{i:06d}" for i in range(count)]

        async def grant(case_id: str) -> None:
            await cases.grant_permit(
                GrantPermit(
                    command_id=f"grant-{case_id}",
                    case_id=case_id,
                    case_type=CaseType.RECEPTION,
                    permit_date=date(today.year, 1, 2),
                    persons=[PersonRecord(person_id=f"{case_id}-p0", birth_date=date(1990, 1, 1))],
                    reception_centre="centre-bench",
                )
            )

        with console.status(f"Opening {count} households"):
            await for_each(ids, grant)
        accepted: dict[str, float] = {}
        shown: dict[str, float] = {}
        sessions = db.sessionmaker(engine)

        async def watch() -> None:
            while len(shown) < count:
                pending = [c for c in accepted if c not in shown]
                if pending:
                    async with sessions() as session:
                        ready = await session.scalars(
                            select(RegisteredCase.case_id).where(
                                RegisteredCase.case_id.in_(pending),
                                RegisteredCase.stage == CaseStage.SETTLEMENT_READY.value,
                            )
                        )
                        now = time.monotonic()
                        for case_id in ready:
                            shown[case_id] = now
                await asyncio.sleep(POLL_S)

        async def step(case_id: str) -> None:
            await cases.execute(
                case_id, RecordSettlementInterview(command_id=f"i-{case_id}", held_on=today)
            )
            accepted[case_id] = time.monotonic()

        watcher = asyncio.create_task(watch())
        sending = []
        start = time.monotonic()
        with console.status(f"{rate} steps/s for {seconds} s"):
            for i, case_id in enumerate(ids):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                sending.append(asyncio.create_task(step(case_id)))
            await asyncio.gather(*sending)
            await asyncio.wait_for(watcher, timeout=120)
    finally:
        await engine.dispose()
        await stack.stop()
        if postgres:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
    waits = sorted(shown[c] - accepted[c] for c in ids)
    return FreshnessResults(
        database=database,
        rate=rate,
        steps=count,
        p50_s=statistics.median(waits),
        p99_s=_p99(waits),
    )


def _p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(0.99 * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=50, help="steady steps/s")
    parser.add_argument("--seconds", type=int, default=20, help="how long to hold that rate")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the register and projection databases (the embedded stack's SQLite by default)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    configure_logging(Settings(log_level="WARNING"), component="bench")
    results = asyncio.run(run(args.rate, args.seconds, args.database, Console(stderr=True)))
    if args.json:
        print(json.dumps(asdict(results), indent=2))
        return
    Console().print(
        f"From an accepted step to the work queue ({results.database}), {results.steps} steps at "
        f"{results.rate}/s: p50 {results.p50_s * 1000:.0f} ms, p99 {results.p99_s * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
