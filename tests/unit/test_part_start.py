"""A part that cannot start says why in one line, naming the setting to change: never a
traceback, in the terminal or in its log."""

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ports import free_port
from workers.platform import db
from workers.platform.codec import new_key
from workers.platform.settings import Settings


def run(tmp_path: Path, *args: str, migrated: bool = True, **env: str) -> tuple[int, str]:
    if migrated:
        settings = Settings(state_dir=tmp_path)
        asyncio.run(db.upgrade(settings.register_url, db.REGISTER))
        asyncio.run(db.upgrade(settings.projection_url, db.PROJECTION))
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", *args],
        env={
            "BOSETTING_STATE_DIR": str(tmp_path),
            "BOSETTING_TOPIC_KEYS": f"k1={new_key()}",
            "BOSETTING_API_DEV_TOKENS": "true",
            "PATH": "/usr/bin:/bin",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, " ".join((done.stdout + done.stderr).split())


@pytest.mark.parametrize(
    ("part", "setting"),
    [("worker", "worker_metrics_port"), ("projection", "projection_metrics_port")],
)
def test_a_part_whose_metrics_port_is_taken_says_so_in_one_line(
    tmp_path: Path, part: str, setting: str
):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, out = run(tmp_path, part, **{f"BOSETTING_{setting.upper()}": str(port)})
    assert code == 1, out
    assert f"error: port {port} on 127.0.0.1 is already in use, so {setting}" in out
    assert f"BOSETTING_{setting.upper()}" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("command", ["worker", "api", "search-attributes"])
def test_without_temporal_a_part_or_a_command_says_so_in_one_line(tmp_path: Path, command: str):
    address = f"127.0.0.1:{free_port()}"  # no one listens there
    code, out = run(
        tmp_path, command, BOSETTING_TEMPORAL_ADDRESS=address, BOSETTING_LOG_FORMAT="console"
    )
    assert code == 1, out
    assert f"error: Temporal at {address} cannot be reached" in out
    assert "BOSETTING_TEMPORAL_ADDRESS" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("part", ["worker", "projection", "api"])
def test_a_part_on_a_database_without_the_schema_says_so_in_one_line(tmp_path: Path, part: str):
    code, out = run(tmp_path, part, migrated=False)
    assert code == 1, out
    assert "run `bosetting db upgrade`" in out
    assert "Traceback" not in out
