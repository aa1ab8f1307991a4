"""Shared fixtures: real databases. PostgreSQL 15 is started from the installed server
binaries (as the unprivileged ``postgres`` user when the tests run as root) and stopped at
the end. A missing server binary fails the run loudly; nothing is skipped."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.postgres import PostgresMissing, PostgresServer
from workers.platform import db


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except PostgresMissing as exc:
        pytest.fail(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.new_database()


async def _migrated(url: str, branch: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await db.upgrade(url, branch)
    engine = db.make_engine(url)
    yield db.sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def register(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The event-log store, migrated."""
    async for sessions in _migrated(database_url, db.REGISTER):
        yield sessions


@pytest.fixture
async def projection_db(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The projection store, migrated."""
    async for sessions in _migrated(database_url, db.PROJECTION):
        yield sessions
