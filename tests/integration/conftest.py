"""The real embedded stack — Temporal dev server, Tansu broker, case worker, projection — on
free loopback ports in a temporary state folder, started once per module."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.waiting import eventually
from workers.allocation.municipalities import register as municipality_register
from workers.cli.demo import places_event_count
from workers.platform import db
from workers.platform.settings import Settings
from workers.platform.temporal import connect
from workers.processes.embedded import EmbeddedStack, settings_env
from workers.services.cases import CaseService
from workers.services.places import PlacesService
from workers.services.plans import HouseholdPlan, drive, ensure_places, places_recorded

__all__ = ["eventually"]


def stack_settings(state_dir: Path, **overrides: object) -> Settings:
    return Settings(
        state_dir=state_dir,
        temporal_address=f"127.0.0.1:{free_port()}",
        temporal_ui_port=free_port(),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_partitions=3,
        projection_metrics_port=free_port(),
        projection_metrics_interval_s=1.0,
        api_port=free_port(),
        monitor_port=free_port(),
        worker_metrics_port=free_port(),
        monitor_interval_s=1.0,
        log_format="json",
        log_level="INFO",
        **overrides,
    )


@dataclass
class RunningStack:
    stack: EmbeddedStack
    settings: Settings
    cases: CaseService
    places: PlacesService
    register: db.async_sessionmaker[db.AsyncSession]
    projection: db.async_sessionmaker[db.AsyncSession]
    driven: list[HouseholdPlan] = field(default_factory=list)
    places_events: int = 0
    """The places streams' events in the log (decisions, places taken), after the last drive."""

    @property
    def expected_events(self) -> int:
        return sum(p.event_count for p in self.driven) + self.places_events

    async def drive(self, plans: list[HouseholdPlan]) -> None:
        """Decide places for the households, then take them through their workflows."""
        await ensure_places(self.places, plans, label="test")
        await drive(self.cases, plans)
        # Decisions, and the places each allocation, release and settlement took (the
        # ledgers write those behind their updates).
        await places_recorded(self.places, plans)
        self.places_events = await places_event_count(self.register)


async def start_stack(settings: Settings) -> AsyncIterator[RunningStack]:
    stack = EmbeddedStack(settings)
    try:
        await stack.start()
    except BaseException:
        print_log_tails(stack)  # a part that would not start says why (pytest shows it)
        raise
    register = db.make_engine(settings.register_url)
    projection = db.make_engine(settings.projection_url)
    try:
        client = await connect(settings)
        yield RunningStack(
            stack=stack,
            settings=settings,
            cases=CaseService(client, settings.task_queue),
            places=PlacesService(client, settings.task_queue, municipality_register()),
            register=db.sessionmaker(register),
            projection=db.sessionmaker(projection),
        )
    finally:
        await register.dispose()
        await projection.dispose()
        await stack.stop()
        print_log_tails(stack)
        still_running = [
            name
            for name, part in stack.components.items()
            if part.process is not None and part.process.poll() is None
        ]
        assert not still_running, f"left running after stop: {still_running}"


def print_log_tails(stack: EmbeddedStack, lines: int = 25) -> None:
    """The end of each part's log, printed at teardown: pytest shows it only when a test of
    the stack failed, and then it says what the parts were doing."""
    for path in sorted(stack.logs.glob("*.log")):
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {path.name} (last {len(tail)} lines) ---", *tail, sep="\n")


@pytest.fixture(scope="module")
async def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    async for running in start_stack(stack_settings(tmp_path_factory.mktemp("stack"))):
        yield running


def bosetting(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line against the stack, as an operator would."""
    env = {**os.environ, **settings_env(stack.settings)}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def cli(stack: RunningStack, *args: str) -> str:
    """Run the command line in a thread and return what it printed; fail on a bad exit."""
    done = await asyncio.to_thread(bosetting, stack, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
