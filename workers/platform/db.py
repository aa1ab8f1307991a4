"""Database engines and migrations for the two stores: the register (event log) and the
projection (read model). They may be one PostgreSQL database or two SQLite files."""

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from workers.platform.settings import CannotStart

MIGRATIONS = Path(__file__).parent / "migrations"
REGISTER = "register"
PROJECTION = "projection"


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # WAL lets the projection read while a writer commits; the busy timeout makes a
            # second process wait for the lock instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(url: str, branch: str) -> None:
    if url.startswith("sqlite"):
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), f"{branch}@head")


async def upgrade(url: str, branch: str) -> None:
    """Bring one store to the newest schema of its branch (``register`` or ``projection``).
    Run once per release, in its own step (``bosetting db upgrade``, the deploy's migrate job,
    the embedded stack before its parts start); on PostgreSQL concurrent runs take turns."""
    # Alembic's async env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(_upgrade, url, branch)


class SchemaOutOfDate(CannotStart):
    """A store's schema is not the one this release was written for."""


def head_of(branch: str) -> str:
    heads = ScriptDirectory.from_config(alembic_config("")).get_revisions(f"{branch}@head")
    return str(heads[0].revision)


async def require_current(url: str, branch: str) -> None:
    """Refuse to run on a store whose schema is older than this release's: the processes
    never migrate (replicas would race); they say what to run instead. A newer schema (a
    revision this release does not know) is accepted: migrations expand before the code
    that needs them is rolled out, so the old code keeps running on them."""
    script = ScriptDirectory.from_config(alembic_config(""))
    head = head_of(branch)
    if url.startswith("sqlite") and not Path(url.split(":///", 1)[1]).exists():  # noqa: ASYNC240
        found: set[str] = set()  # and no empty file left behind by looking
    else:
        found = await _versions(url)
    ours = sorted(v for v in found if v[0] == head[0])
    known = {v for v in ours if _known(script, v)}
    if head in found or (ours and known != set(ours)):
        return
    raise SchemaOutOfDate(
        f"the {branch} database is at {(ours or ['no schema'])[0]}, this release needs "
        f"{head}: run `bosetting db upgrade` first (the deploy's migrate job)"
    )


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic: "Can't locate revision"
        return False


async def _versions(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            versions = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return set(versions.scalars())
    except DBAPIError:
        return set()
    finally:
        await engine.dispose()
