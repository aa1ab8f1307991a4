"""OpenTelemetry tracing: one trace from an API call through the case workflow and its
activity, over Kafka, to the projection batch that applied the events.

- The API starts a server span per request (named by route template: no ids from the path),
  joining a caller's W3C ``traceparent``.
- Temporal's ``TracingInterceptor`` (on every client, so on the workers too) carries the
  context into workflows and activities.
- The activity that records events stores its ``traceparent`` on each event-log row; the relay
  puts it on the Kafka record (``ce_traceparent``, CloudEvents' distributed tracing extension).
- The projection's span per batch links to the traces of the events it applied.

Spans are always made, so logs carry ``trace_id`` and ``span_id``; where they go is
``BOSETTING_TRACING_EXPORTER``: ``none`` (the default), ``otlp`` (OTLP over HTTP, configured by
the standard ``OTEL_EXPORTER_OTLP_*`` variables) or ``file`` (JSON lines in
``state_dir/traces/<component>.jsonl``, for a laptop and the tests)."""

import json
from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from schemas.qualification import workflow_label
from workers.platform.settings import Settings

_provider: TracerProvider | None = None
WORKFLOW_ID = "temporalWorkflowID"
"""The attribute Temporal's TracingInterceptor puts a workflow's id in."""


class HidePersons(SpanProcessor):
    """Spans name a case's workflow but never a person's qualification record: its id is a
    person id, which could be a protected person's."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        workflow_id = (span.attributes or {}).get(WORKFLOW_ID)
        if isinstance(workflow_id, str) and workflow_id != workflow_label(workflow_id):
            span.set_attribute(WORKFLOW_ID, workflow_label(workflow_id))


class JsonLinesExporter(SpanExporter):
    """Each finished span as one JSON line: name, ids, parent, links, attributes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            context = span.get_span_context()
            assert context is not None
            line = {
                "name": span.name,
                "trace_id": f"{context.trace_id:032x}",
                "span_id": f"{context.span_id:016x}",
                "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
                "links": [f"{link.context.trace_id:032x}" for link in span.links],
                "attributes": dict(span.attributes or {}),
                "start": span.start_time,
                "end": span.end_time,
            }
            self._file.write(json.dumps(line, default=str) + "\n")
        self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._file.close()


def configure_tracing(settings: Settings, *, component: str) -> None:
    """Install the process's tracer provider (once) with the configured exporter."""
    global _provider
    if _provider is not None:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"bosetting-{component}"}))
    provider.add_span_processor(HidePersons())  # first: before any exporter sees the span
    if settings.tracing_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif settings.tracing_exporter == "file":
        path = settings.state_dir / "traces" / f"{component}.jsonl"
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path)))
    trace.set_tracer_provider(provider)
    _provider = provider


def shutdown_tracing() -> None:
    """Flush what is buffered (the OTLP exporter batches)."""
    if _provider is not None:
        _provider.shutdown()


def add_trace_ids(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the current span's trace and span ids on every log line."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", f"{context.trace_id:032x}")
        event_dict.setdefault("span_id", f"{context.span_id:016x}")
    return event_dict


def current_traceparent() -> str | None:
    """The current span's W3C ``traceparent``, or None outside a sampled trace."""
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")
