"""Temporal client construction: one data converter (pydantic) everywhere."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from .settings import Settings


async def connect(settings: Settings, *, metrics_port: int = 0) -> Client:
    """A client; with ``metrics_port``, the SDK's own metrics (task slots, latencies, polls,
    failures of workflow tasks and activities) are served for Prometheus on that port."""
    runtime = None
    if metrics_port:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"{settings.metrics_host}:{metrics_port}")
            )
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        runtime=runtime,
    )


async def register_search_attributes(client: Client) -> None:
    """Register the case search attributes on the client's namespace (idempotent)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    from workflows import search_attributes as sa

    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in sa.ALL
                },
            )
        )
    except RPCError as exc:
        if exc.status != RPCStatusCode.ALREADY_EXISTS:
            raise
