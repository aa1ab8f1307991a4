"""Temporal client construction: one data converter (pydantic) everywhere."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import structlog
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from workers.platform.codec import EncryptionCodec, parse_keys
from workers.platform.settings import CannotStart, Settings, port_taken


async def connect(settings: Settings, *, serve_metrics: bool = False) -> Client:
    """A client; with ``serve_metrics`` (the case worker's), the SDK's own metrics (task
    slots, latencies, polls, failures of workflow tasks and activities) are served for
    Prometheus on ``worker_metrics_port`` (0: not served)."""
    runtime = None
    host, port = settings.metrics_host, settings.worker_metrics_port
    if serve_metrics and port:
        try:
            runtime = Runtime(
                telemetry=TelemetryConfig(
                    # Prometheus' conventions: counters end in _total, durations are seconds
                    # (the SDK's defaults are neither, and dashboards read them 1000x too high).
                    metrics=PrometheusConfig(
                        bind_address=f"{host}:{port}",
                        counters_total_suffix=True,
                        durations_as_seconds=True,
                    )
                )
            )
        except ValueError:  # the SDK's word for "the exporter could not listen there"
            raise CannotStart(port_taken(host, port, "worker_metrics_port")) from None
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            tls=tls_config(settings),
            data_converter=data_converter(settings),
            runtime=runtime,
            # Carries the trace into workflows and activities; workers built on this client
            # get it too. Without a tracer provider (workers/platform/tracing.py) its spans
            # cost nothing.
            interceptors=[TracingInterceptor()],
        )
    except RuntimeError as exc:  # the SDK's word for "no connection" (refused, TLS, DNS)
        if not str(exc).startswith("Failed client connect"):
            raise
        reason = " ".join(str(exc).split())[:300]  # the address and the OS's error, no more
        raise CannotStart(
            f"Temporal at {settings.temporal_address} cannot be reached; start it or set "
            f"BOSETTING_TEMPORAL_ADDRESS (and BOSETTING_TEMPORAL_TLS*) to where it runs ({reason})"
        ) from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS to Temporal (mutual, with a client certificate) when the settings ask for it."""
    if not settings.temporal_tls:
        return False

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca_file),
        client_cert=read(settings.temporal_tls_cert_file),
        client_private_key=read(settings.temporal_tls_key_file),
    )


def data_converter(settings: Settings) -> DataConverter:
    """pydantic models as JSON, encrypted when payload keys are set (workers/platform/codec.py)."""
    if settings.payload_keys is None:
        return pydantic_data_converter
    keys = parse_keys(settings.payload_keys.get_secret_value())
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keys))


async def register_search_attributes(client: Client) -> None:
    """Register the case search attributes the namespace lacks (idempotent). Only the missing
    ones are sent: the server refuses a request naming one that exists, so a namespace made
    by an earlier release gets its new attributes too."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    from workflows import search_attributes as sa

    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        present = set(listed.custom_attributes)
    except RPCError as exc:  # the time-skipping test server lists none: send them all
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        present = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in sa.ALL
        if key.name not in present
    }
    if not missing:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    except RPCError as exc:  # another process registered them meanwhile
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise


T = TypeVar("T")
TRANSIENT = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)
"""Temporal is away or overloaded: the same call may succeed in a moment."""
log = structlog.get_logger("temporal")


async def patiently(call: Callable[[], Awaitable[T]], patience_s: float) -> T:
    """The call, made again while Temporal is unavailable, for up to ``patience_s``; then
    its error. Only for calls that are safe to repeat: a start deduplicated by workflow id,
    an update by its id (the command id), a query or a signal that changes nothing twice."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    delay = 0.5
    while True:
        try:
            return await call()
        except RPCError as exc:
            if exc.status not in TRANSIENT or loop.time() + delay > deadline:
                raise
            log.warning(
                "temporal unavailable; calling again with the same ids",
                status=exc.status.name if exc.status else None,
                retry_in_s=delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
