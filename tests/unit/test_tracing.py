"""The tracing exporters: OTLP over HTTP really sends (to a receiver in this test, standing in
for a collector), the file exporter writes what the integration tests read, and log lines
carry the current trace id."""

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SCRIPT = """
from opentelemetry import trace
from workers.platform.settings import Settings
from workers.platform.tracing import configure_tracing, shutdown_tracing
configure_tracing(Settings(), component="probe")
with trace.get_tracer("t").start_as_current_span("probe span"):
    pass
shutdown_tracing()
"""


def _run(env: dict[str, str], tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={"PATH": "/usr/bin:/bin", "BOSETTING_STATE_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_otlp_sends_the_spans_to_the_configured_endpoint(tmp_path):
    received: list[ExportTraceServiceRequest] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()
            self.wfile.write(b"")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}"
        _run(
            {"BOSETTING_TRACING_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
            tmp_path,
        )
    finally:
        server.shutdown()
    names = [
        span.name
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    assert names == ["probe span"]
    service = received[0].resource_spans[0].resource.attributes
    assert {a.key: a.value.string_value for a in service}["service.name"] == "bosetting-probe"


def test_the_file_exporter_writes_json_lines_and_none_writes_nothing(tmp_path):
    _run({"BOSETTING_TRACING_EXPORTER": "file"}, tmp_path)
    lines = (tmp_path / "traces" / "probe.jsonl").read_text().splitlines()
    span = json.loads(lines[0])
    assert (span["name"], len(span["trace_id"]), span["parent_span_id"]) == ("probe span", 32, None)
    quiet = tmp_path / "quiet"
    _run({"BOSETTING_TRACING_EXPORTER": "none", "BOSETTING_STATE_DIR": str(quiet)}, tmp_path)
    assert not (quiet / "traces").exists()


def test_log_lines_carry_the_current_trace_and_span_ids():
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from workers.platform.tracing import add_trace_ids

    tracer = TracerProvider().get_tracer("t")
    assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}  # no span: no ids
    with tracer.start_as_current_span("s") as span:
        line = add_trace_ids(None, "info", {"event": "x"})
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_spans_never_carry_a_persons_record_id():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from workers.platform.tracing import WORKFLOW_ID, HidePersons

    provider, exported = TracerProvider(), InMemorySpanExporter()
    provider.add_span_processor(HidePersons())
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracer = provider.get_tracer("t")
    for workflow_id in ("qualification/case-0001-p0", "settlement-case/case-0001"):
        with tracer.start_as_current_span("RunWorkflow", attributes={WORKFLOW_ID: workflow_id}):
            pass
    assert [s.attributes[WORKFLOW_ID] for s in exported.get_finished_spans()] == [
        "a qualification record",
        "settlement-case/case-0001",
    ]
