"""The hand-written migrations create exactly what the typed mappings declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from workers.platform import db
from workers.platform.register import RegisterBase
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
