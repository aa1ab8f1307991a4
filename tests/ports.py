"""Ports for the servers the tests and the benchmark start.

A port chosen by binding to port 0 comes from the kernel's ephemeral range, and is free only
until someone binds it: between the choice and the server's own bind, any process's outbound
connection or port-0 bind may take it (the Temporal dev server alone opens dozens). A CI run
saw exactly that: the case worker's metrics exporter found its port in use and the stack
would not start. So the servers' ports are chosen below the ephemeral range, where the
kernel never hands out a port of its own, and each only once per test process."""

import random
import socket
from pathlib import Path

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10000  # above the well-known and most registered ports
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default, and the IANA range starts higher still


def free_port() -> int:
    """A loopback port no one listens on, outside the ephemeral range."""
    ceiling = _ephemeral_start()
    if ceiling - _LOWEST < 1000:  # an unusual kernel setting: fall back to the kernel's choice
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    for _ in range(200):
        port = random.randrange(_LOWEST, ceiling)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free loopback port found between {_LOWEST} and {ceiling}")
