"""Migrations run once, in their own step; the processes only check the schema, and refuse
to run on one that is not theirs, saying what to run."""

import asyncio
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from workers.platform import db


async def test_a_store_without_the_schema_is_refused_naming_the_command(database_url):
    with pytest.raises(db.SchemaOutOfDate, match=r"no schema, .* run `bosetting db upgrade`"):
        await db.require_current(database_url, db.REGISTER)


async def test_a_store_one_migration_behind_is_refused_naming_both_versions(database_url):
    config = db.alembic_config(database_url)
    head = ScriptDirectory.from_config(config).get_revision("register@head")
    behind = head.down_revision
    assert isinstance(behind, str)
    await asyncio.to_thread(lambda: db.command.upgrade(config, f"register@{behind}"))
    with pytest.raises(
        db.SchemaOutOfDate, match=rf"at {behind}, this release needs {head.revision}"
    ):
        await db.require_current(database_url, db.REGISTER)
    await db.upgrade(database_url, db.REGISTER)
    await db.require_current(database_url, db.REGISTER)


async def test_migrate_jobs_at_once_take_turns_on_postgresql(postgres):
    """Replicas of a migrate job (or two operators at once) must not race each other: on
    PostgreSQL they queue on an advisory lock. (SQLite is the one-machine stack, which
    migrates once, before its parts start.)"""
    url = await postgres.new_database()
    env = {
        "BOSETTING_REGISTER_DATABASE_URL": url,
        "BOSETTING_PROJECTION_DATABASE_URL": url,
        "PATH": "/usr/bin:/bin",
    }
    jobs = [
        subprocess.Popen(  # noqa: ASYNC220 - returns at once; waited for below
            [sys.executable, "-m", "workers.cli.main", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [job.communicate(timeout=120)[0] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0, 0], outputs
    await db.require_current(url, db.REGISTER)
    await db.require_current(url, db.PROJECTION)


def test_a_process_on_an_old_schema_says_so_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "rebuild-projection", "--yes"],
        env={"BOSETTING_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    out = " ".join((done.stdout + done.stderr).split())
    assert "error: the register database is at no schema" in out
    assert "Traceback" not in out
    assert not (tmp_path / "register.db").exists()  # looking created nothing


async def test_a_newer_schema_is_accepted_for_a_rolling_upgrade(database_url):
    """Expand first: the new release's migration runs while the old code still serves."""
    await db.upgrade(database_url, db.REGISTER)
    engine = db.make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(db.text("UPDATE alembic_version SET version_num = 'r9999'"))
    await engine.dispose()
    await db.require_current(database_url, db.REGISTER)
