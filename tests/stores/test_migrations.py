"""The hand-written migrations create exactly what the typed mappings declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from activities.event_log import RegisterBase
from workers import activity_health as _activity_health  # noqa: F401 - its table is in the register
from workers import db
from workers import feed as _feed  # noqa: F401 - its tables are in the projection store
from workers import heartbeat as _heartbeat  # noqa: F401 - its table is in the register
from workers.api import audit as _audit  # noqa: F401 - its table is in the register
from workers.api import idempotency as _idempotency  # noqa: F401 - its table is in the register
from workers.projection.store import ProjectionBase


async def _diff(url: str, branch: str, metadata: MetaData) -> list[object]:
    await db.upgrade(url, branch)
    engine = db.make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()


async def test_register_migrations_match_the_models(database_url):
    assert await _diff(database_url, db.REGISTER, RegisterBase.metadata) == []


async def test_projection_migrations_match_the_models(database_url):
    assert await _diff(database_url, db.PROJECTION, ProjectionBase.metadata) == []
