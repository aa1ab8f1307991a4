"""A part whose metrics port someone else holds says so in one line, naming the setting."""

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from workers.platform import db
from workers.platform.codec import new_key
from workers.platform.settings import Settings


@pytest.mark.parametrize(
    ("part", "setting"),
    [("worker", "worker_metrics_port"), ("projection", "projection_metrics_port")],
)
def test_a_part_whose_metrics_port_is_taken_says_so_in_one_line(
    tmp_path: Path, part: str, setting: str
):
    settings = Settings(state_dir=tmp_path)
    asyncio.run(db.upgrade(settings.register_url, db.REGISTER))
    asyncio.run(db.upgrade(settings.projection_url, db.PROJECTION))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli.main", part],
            env={
                "BOSETTING_STATE_DIR": str(tmp_path),
                "BOSETTING_TOPIC_KEYS": f"k1={new_key()}",
                f"BOSETTING_{setting.upper()}": str(port),
                "PATH": "/usr/bin:/bin",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    out = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, out
    assert f"error: port {port} on 127.0.0.1 is already in use, so {setting}" in out
    assert f"BOSETTING_{setting.upper()}" in out
    assert "Traceback" not in out
