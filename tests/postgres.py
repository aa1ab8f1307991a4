"""A throwaway PostgreSQL server for the tests and the benchmark, started from the installed
server binaries (as the unprivileged ``postgres`` user when run as root), on loopback.

It holds registers (the system of record) in the tests, so it keeps PostgreSQL's durable
defaults: ``fsync``, ``synchronous_commit`` and ``full_page_writes`` on. A commit that
returned is on disk, and an immediate stop (a crash) loses nothing that was acknowledged;
production PostgreSQL must keep the same (deploy/README.md)."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import asyncpg

from tests.ports import free_port


class PostgresMissing(RuntimeError):
    pass


def _pg_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    preferred = [c for c in candidates if "/15/" in c] or candidates
    if not preferred:
        found = shutil.which("initdb")
        if not found:
            raise PostgresMissing(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; install PostgreSQL 15"
            )
        return Path(found).parent
    return Path(preferred[0]).parent


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="bosetting-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the unprivileged postgres user.
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.user = "postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(argv, check=True, user=self.user, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "bosetting",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self._start_server()

    def _start_server(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
            "-c max_connections=200",
        )

    def crash(self) -> None:
        """Stop the server as a crash would (``pg_ctl stop -m immediate``: no checkpoint)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def restart(self) -> None:
        """Start it again after :meth:`crash`: it recovers from its write-ahead log."""
        self._start_server()

    def stop(self) -> None:
        subprocess.run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            user=self.user,
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    async def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="bosetting", database="postgres"
        )
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"postgresql+asyncpg://bosetting@127.0.0.1:{self.port}/{name}"
