"""A SASL/SCRAM front for the embedded broker, for the tests.

The embedded broker can demand SCRAM itself, but keeps its users in memory and makes them
only for a client that has already authenticated, so no first user can ever exist. This front
does what a Kafka broker's SASL listener does before it serves a client: it passes the version
lookup to the broker, answers the SASL handshake and the SCRAM exchange (RFC 5802, by
``scramp``) itself, closes the connection on any other request before the client has
authenticated, and from then on relays it to the broker untouched (``tests/fronts.py``). Put a
``TlsFront`` before it for SASL_SSL."""

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

from tests.fronts import Streams, relay_both_ways, serving

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
# The versions aiokafka speaks (0 and 1 of both; the request headers carry no tagged fields).
HANDSHAKE_REPLIES = (SaslHandShakeResponse_v0, SaslHandShakeResponse_v1)
AUTHENTICATE_REPLIES = (SaslAuthenticateResponse_v0, SaslAuthenticateResponse_v1)


def _framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


async def _frame(streams: Streams) -> bytes:
    (size,) = struct.unpack(">i", await streams[0].readexactly(4))
    return await streams[0].readexactly(size)


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
        async with serving(self.port, self.backend, self._serve):
            yield self

    async def _serve(self, client: Streams, backend: Streams) -> None:
        try:
            name = await self._authenticate(client, backend)
        except (EOFError, ConnectionError):  # asyncio.IncompleteReadError is an EOFError
            name = None
        if name is None:
            self.refused += 1
            for _, writer in (client, backend):
                writer.close()
            return
        self.authenticated.append(name)
        await relay_both_ways(client, backend)

    async def _authenticate(self, client: Streams, backend: Streams) -> str | None:
        """The SASL exchange, as a broker runs it: the user's name once authenticated, or
        None where the connection is to be closed."""
        scram = ScramMechanism(self.mechanism)
        asked_for: list[str] = []

        def credentials(user: str) -> tuple[bytes, bytes, bytes, int]:
            asked_for.append(user)
            return scram.make_auth_info(self.users[user], iteration_count=4096)

        server = scram.make_server(credentials)
        while True:
            request = await _frame(client)
            api_key, version, correlation_id, client_id = struct.unpack(">hhih", request[:10])
            body = request[10 + max(client_id, 0) :]
            if api_key == API_VERSIONS:  # the broker's own answer
                backend[1].write(_framed(request))
                client[1].write(_framed(await _frame(backend)))
                await client[1].drain()
                continue
            name: str | None = None
            if api_key == SASL_HANDSHAKE:
                asked = SaslHandShakeRequest_v0.decode(body).mechanism
                error = 0 if asked == self.mechanism else UNSUPPORTED_SASL_MECHANISM
                reply = HANDSHAKE_REPLIES[version](error, [self.mechanism])
                done = bool(error)
            elif api_key == SASL_AUTHENTICATE:
                token = SaslAuthenticateRequest_v0.decode(body).sasl_auth_bytes.decode()
                try:
                    if not asked_for:  # the client's first message names the user
                        server.set_client_first(token)
                        error, message, answer, done = 0, None, server.get_server_first(), False
                    else:
                        server.set_client_final(token)
                        error, message, answer, done = 0, None, server.get_server_final(), True
                        name = asked_for[0]
                except ScramException:
                    error, message, answer, done = (
                        SASL_AUTHENTICATION_FAILED, "authentication failed", "", True
                    )  # fmt: skip
                session_lifetime = [0] if version >= 1 else []
                reply = AUTHENTICATE_REPLIES[version](
                    error, message, answer.encode(), *session_lifetime
                )
            else:  # anything else before authentication: a broker closes the connection
                return None
            client[1].write(_framed(struct.pack(">i", correlation_id) + reply.encode()))
            await client[1].drain()
            if done:
                return name
