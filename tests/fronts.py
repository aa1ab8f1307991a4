"""What the tests' fronts share. A front stands before an embedded part to give it what it
lacks (TLS in ``tests/tls.py``, SASL in ``tests/sasl.py``): it listens on loopback, takes its
part of each conversation, then relays the bytes to the part behind it untouched."""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Handler = Callable[[Streams, Streams], Awaitable[None]]
"""One connection: the client's streams, then the backend's."""


@contextlib.asynccontextmanager
async def serving(
    port: int, backend: tuple[str, int], handle: Handler, **server_options: Any
) -> AsyncIterator[None]:
    """Listen on ``port``; give each connection, with a connection of its own to ``backend``,
    to ``handle``."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            back = await asyncio.open_connection(*backend)
        except OSError:
            writer.close()
            return
        await handle((reader, writer), back)

    server = await asyncio.start_server(connection, "127.0.0.1", port, **server_options)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def relay_both_ways(client: Streams, backend: Streams) -> None:
    """Copy the client's bytes to the backend and back until either end closes."""

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.close()

    await asyncio.gather(pipe(client[0], backend[1]), pipe(backend[0], client[1]))
