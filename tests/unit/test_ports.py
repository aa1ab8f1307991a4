"""The tests' servers get ports the kernel never hands out by itself."""

import socket

from tests.ports import _ephemeral_start, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_given_once() -> None:
    ports = [free_port() for _ in range(50)]
    assert all(port < _ephemeral_start() for port in ports)
    assert len(set(ports)) == len(ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))  # and free
