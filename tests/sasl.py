"""A SASL/SCRAM front for the embedded broker, for the tests.

The embedded broker can demand SCRAM itself, but keeps its users in memory and makes them
only for a client that has already authenticated, so no first user can ever exist. This front
does what a Kafka broker's SASL listener does before it serves a client: it answers the
version lookup (from the broker), the SASL handshake and the SCRAM exchange (RFC 5802, by
``scramp``) itself, refuses any other request before the client has authenticated, and from
then on relays the connection to the broker untouched. Put a ``TlsFront`` before it for
SASL_SSL."""

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiokafka.protocol.admin import (
    SaslAuthenticateRequest_v0,
    SaslAuthenticateResponse_v0,
    SaslAuthenticateResponse_v1,
    SaslHandShakeRequest_v0,
    SaslHandShakeResponse_v0,
    SaslHandShakeResponse_v1,
)
from scramp import ScramException, ScramMechanism

from tests.tls import relay_both_ways

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58


async def _frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


def _send(writer: asyncio.StreamWriter, correlation_id: int, body: bytes) -> None:
    writer.write(struct.pack(">ii", 4 + len(body), correlation_id) + body)


@dataclass
class SaslFront:
    """Listens on ``port`` and relays each connection that authenticates with ``mechanism``
    as one of ``users`` (name → password) to ``backend``."""

    port: int
    backend: tuple[str, int]
    users: dict[str, str]
    mechanism: str = "SCRAM-SHA-512"
    authenticated: list[str] = field(default_factory=list)
    """Who authenticated, a name per connection."""
    refused: int = 0
    """Connections refused: a wrong password, an unknown user, another mechanism, or a
    request before authentication."""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["SaslFront"]:
        scram = ScramMechanism(self.mechanism)
        self._credentials = {
            name: scram.make_auth_info(password, iteration_count=4096)
            for name, password in self.users.items()
        }
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            back_reader, back_writer = await asyncio.open_connection(*self.backend)
        except OSError:
            writer.close()
            return
        try:
            name = await self._authenticate(reader, writer, back_reader, back_writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            name = None
        if name is None:
            self.refused += 1
            for end in (writer, back_writer):
                end.close()
            return
        self.authenticated.append(name)
        await relay_both_ways(reader, writer, back_reader, back_writer)

    async def _authenticate(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        back_reader: asyncio.StreamReader,
        back_writer: asyncio.StreamWriter,
    ) -> str | None:
        """The SASL exchange, as a broker runs it: the user's name once authenticated, or
        None where the connection is to be closed."""
        asked_for: list[str] = []

        def credentials(user: str) -> tuple[bytes, bytes, bytes, int]:
            asked_for.append(user)
            return self._credentials[user]

        server = ScramMechanism(self.mechanism).make_server(credentials)
        first_done = False
        while True:
            request = await _frame(reader)
            api_key, version, correlation_id, client_id_length = struct.unpack(
                ">hhih", request[:10]
            )
            body = request[10 + max(client_id_length, 0) :]
            if api_key == API_VERSIONS:  # the broker's own answer
                back_writer.write(struct.pack(">i", len(request)) + request)
                versions = await _frame(back_reader)
                writer.write(struct.pack(">i", len(versions)) + versions)
            elif api_key == SASL_HANDSHAKE:
                asked = SaslHandShakeRequest_v0.decode(body).mechanism
                error = 0 if asked == self.mechanism else UNSUPPORTED_SASL_MECHANISM
                reply = (SaslHandShakeResponse_v0, SaslHandShakeResponse_v1)[version]
                _send(writer, correlation_id, reply(error, [self.mechanism]).encode())
                if error:
                    await writer.drain()
                    return None
            elif api_key == SASL_AUTHENTICATE:
                token = SaslAuthenticateRequest_v0.decode(body).sasl_auth_bytes.decode()
                try:
                    if not first_done:
                        server.set_client_first(token)
                        answer, done, first_done = server.get_server_first(), False, True
                    else:
                        server.set_client_final(token)
                        answer, done = server.get_server_final(), True
                    error, message = 0, None
                except ScramException:
                    error, message, answer, done = (
                        SASL_AUTHENTICATION_FAILED, "authentication failed", "", True
                    )  # fmt: skip
                fields = [error, message, answer.encode()] + ([0] if version >= 1 else [])
                reply = (SaslAuthenticateResponse_v0, SaslAuthenticateResponse_v1)[version]
                _send(writer, correlation_id, reply(*fields).encode())
                await writer.drain()
                if done:
                    return None if error else asked_for[0]
            else:  # anything else before authentication: a broker closes the connection
                return None
            await writer.drain()
