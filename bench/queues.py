"""``make bench`` (queues): one page of 50 rows of each work queue from a case register of
``--large`` cases (10^6 by default), against the same page from one of ``--small`` cases
(10^3), in the same run on the same database server. Only the ratio travels; the goal is
within 2x, by the indexes each queue's filter and sort use.

The registers are synthetic: cases spread over the stages as a national register would hold
them (most settled), 50 reception centres, 356 municipalities, two persons a case. They are
written straight into the tables (the projection's own writer is measured by bench.projection).
Each page is read five times; the median counts. Loopback only; it stops what it starts."""

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Table as SqlTable

from tests.postgres import PostgresServer
from workers.platform import db
from workers.platform.logging import configure_logging
from workers.platform.settings import Settings
from workers.projection.bulk import insert_rows
from workers.projection.queues import QUEUES, Filters, read_queue
from workers.projection.store import RegisteredCase, RegisteredPerson

STAGES = (
    ("settled", 70),
    ("exited", 5),
    ("permit_granted", 8),
    ("settlement_ready", 9),
    ("allocated", 4),
    ("accepted", 4),
)
"""Per 100 cases: a register that has run for years holds mostly settled cases."""
TODAY = date(2026, 12, 1)
CHUNK = 20_000


def _stage(i: int) -> str:
    slot, acc = i % 100, 0
    for stage, share in STAGES:
        acc += share
        if slot < acc:
            return stage
    return "settled"


def cases(first: int, count: int) -> tuple[list[dict], list[dict]]:
    """Register rows of cases ``first`` to ``first + count - 1``, and their persons."""
    rows, persons = [], []
    for i in range(first, first + count):
        stage = _stage(i * 7919)  # spread the stages over ids
        permit = TODAY - timedelta(days=(i * 37) % 2000)
        placed = stage in ("allocated", "accepted", "settled")
        municipality = f"{(i * 13) % 356 + 1:04d}" if placed else None
        settled_on = permit + timedelta(days=120 + i % 200) if stage == "settled" else None
        case_id = f"bench-{i:08d}"
        rows.append(
            {
                "case_id": case_id,
                "case_type": "reception",
                "stage": stage,
                "open": stage not in ("settled", "exited"),
                "category": "other_adult" if settled_on else None,
                "reception_centre": f"centre-{i % 50:02d}",
                "municipality_number": municipality,
                "permit_date": permit,
                "ready_on": permit + timedelta(days=30) if stage != "permit_granted" else None,
                "competence_mapped_on": None,
                "exit_reason": "moved_abroad" if stage == "exited" else None,
                "target_months": 6,
                "target_date": permit + timedelta(days=182),
                "allocated_on": permit + timedelta(days=60) if placed else None,
                "reply_due_on": permit + timedelta(days=67) if stage == "allocated" else None,
                "reply_overdue": False,
                "accepted_on": permit + timedelta(days=70)
                if stage in ("accepted", "settled")
                else None,
                "planned_on": None,
                "first_settled_on": settled_on,
                "last_settled_on": settled_on,
                "members": 2,
                "settled": 2 if settled_on else 0,
                "protected": i % 500 == 0,
                "last_event": "PersonSettled" if settled_on else "SettlementInterviewHeld",
                "last_step_at": datetime.combine(permit, datetime.min.time(), UTC),
            }
        )
        for p in range(2):
            due = settled_on + timedelta(days=90) if settled_on and p == 0 else None
            persons.append(
                {
                    "person_id": f"{case_id}-p{p}",
                    "case_id": case_id,
                    "permit_date": permit,
                    "protected": i % 500 == 0,
                    "settled_on": settled_on,
                    "municipality_number": municipality if settled_on else None,
                    "programme_right": "right_and_obligation" if due else None,
                    "norwegian_right": None,
                    "programme_start_due": due,
                    "programme_started_on": None,
                    "programme_ended_on": None,
                    "norwegian_start_due": None,
                    "norwegian_started_on": None,
                    "norwegian_completion_due": None,
                    "norwegian_concluded_on": None,
                    "next_due_on": due,
                }
            )
    return rows, persons


async def fill(url: str, count: int, progress: Progress) -> None:
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    try:
        task = progress.add_task(f"{count:,} cases", total=count)
        for start in range(0, count, CHUNK):
            rows, persons = cases(start, min(CHUNK, count - start))
            async with db.sessionmaker(engine).begin() as session:
                await insert_rows(session, table_of(RegisteredCase), rows)
                await insert_rows(session, table_of(RegisteredPerson), persons)
            progress.advance(task, len(rows))
        async with engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")  # the planner's statistics, as in use
    finally:
        await engine.dispose()


def table_of(model: type) -> SqlTable:
    table: SqlTable = model.__table__  # type: ignore[attr-defined]
    return table


SCOPES = {"reception": "centre-07", "inbox": "0042", "accepted": "0042", "qualification": "0042"}


async def page_times(url: str, depth: int) -> dict[str, float]:
    """Median seconds of one page of 50, per queue: the first page, or (``depth`` > 1) the
    page that many pages in, reached by its cursor."""
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    found = {}
    try:
        for name, queue in QUEUES.items():
            filters = Filters(
                place=SCOPES.get(name),
                stuck_before=datetime.combine(TODAY - timedelta(days=30), datetime.min.time(), UTC),
            )
            cursor = None
            for _ in range(depth - 1):
                page = await read_queue(
                    sessions, queue, filters, limit=50, today=TODAY, cursor=cursor
                )
                cursor = page.next_cursor
            await read_queue(sessions, queue, filters, limit=50, today=TODAY, cursor=cursor)  # warm
            times = []
            for _ in range(5):
                started = time.perf_counter()
                await read_queue(sessions, queue, filters, limit=50, today=TODAY, cursor=cursor)
                times.append(time.perf_counter() - started)
            found[name] = statistics.median(times)
    finally:
        await engine.dispose()
    return found


@dataclass
class QueueResults:
    small: int
    large: int
    database: str
    depth: int
    small_s: dict[str, float]
    large_s: dict[str, float]
    ratio: dict[str, float]


async def run(small: int, large: int, database: str, depth: int, console: Console) -> QueueResults:
    postgres = PostgresServer() if database == "postgresql" else None
    folder = Path(tempfile.mkdtemp(prefix="bosetting-bench-queues-"))
    if postgres:
        postgres.start()
    try:
        with Progress(console=console, transient=True) as progress:
            urls = []
            for count in (small, large):
                if postgres:
                    url = await postgres.new_database()
                else:
                    url = f"sqlite+aiosqlite:///{folder / f'queues-{count}.db'}"
                await fill(url, count, progress)
                urls.append(url)
        small_s = await page_times(urls[0], depth)
        large_s = await page_times(urls[1], depth)
    finally:
        if postgres:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return QueueResults(
        small=small,
        large=large,
        database=database,
        depth=depth,
        small_s=small_s,
        large_s=large_s,
        ratio={name: large_s[name] / small_s[name] for name in small_s},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--depth", type=int, default=1, help="which page: 1 the first")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    configure_logging(Settings(log_level="WARNING"), component="bench")
    console = Console(stderr=True)
    results = asyncio.run(run(args.small, args.large, args.database, args.depth, console))
    if args.json:
        print(json.dumps(asdict(results), indent=2))
        return
    table = Table(
        title=f"Page {results.depth} (50 rows) from {results.large:,} cases against "
        f"{results.small:,} ({results.database}, same run; goal: within 2x)"
    )
    for column in ("queue", f"{results.small:,} cases", f"{results.large:,} cases", "ratio"):
        table.add_column(column, justify="right")
    for name, ratio in results.ratio.items():
        table.add_row(
            name,
            f"{results.small_s[name] * 1000:.2f} ms",
            f"{results.large_s[name] * 1000:.2f} ms",
            f"{ratio:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
