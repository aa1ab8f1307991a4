"""A stack set up as production would be, traced (to files) and with Temporal payloads
encrypted. One trace from an API call to the figures: the API's span, the workflow and
activity spans in the case worker, the ``ce_traceparent`` on the Kafka record, the projection
batch that links to it, and the trace id on the log lines of the API and the case worker.
And the histories Temporal keeps are unreadable without the key."""

import json
import secrets
import shlex
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.ids import workflow_id_for
from tests.factories import household
from tests.integration.conftest import RunningStack, cli, eventually, stack_settings, start_stack
from tests.integration.test_api_http import read_records, readable
from workers.platform.codec import new_key

pytestmark = pytest.mark.integration

PERMIT = {
    "case_id": "case-traced-1",
    "case_type": "reception",
    "permit_date": "2020-02-03",
    "persons": [{"person_id": "case-traced-1-p0", "birth_date": "1988-04-02"}],
    "reception_centre": "centre-a",
}


@pytest.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[RunningStack]:
    settings = stack_settings(
        tmp_path_factory.mktemp("traced"),
        tracing_exporter="file",
        payload_keys=f"k1={new_key()}",
    )
    async for running in start_stack(settings):
        yield running


def spans(stack: RunningStack, component: str) -> list[dict[str, Any]]:
    path = stack.settings.state_dir / "traces" / f"{component}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def log_lines(path: Path, trace_id: str) -> list[dict[str, Any]]:
    found = []
    for line in path.read_text().splitlines():
        if trace_id in line:
            found.append(json.loads(line))
    return found


async def test_a_step_is_one_trace_from_the_api_to_the_projection(stack: RunningStack):
    token = (await cli(stack, *shlex.split("tokens mint caseworker --subject imdi-1"))).strip()
    trace_id = secrets.token_hex(16)
    caller_span = secrets.token_hex(8)
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": str(uuid.uuid4()),
        "traceparent": f"00-{trace_id}-{caller_span}-01",  # the caller's trace, joined
    }
    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        opened = await http.post("/cases", json=PERMIT, headers=headers)
    assert opened.status_code == 201, opened.text

    api = [s for s in spans(stack, "api") if s["trace_id"] == trace_id]
    root = [s for s in api if s["parent_span_id"] == caller_span]
    assert [s["name"] for s in root] == ["POST /cases"]
    assert root[0]["attributes"]["http.route"] == "/cases"
    assert "StartWorkflow:SettlementCaseWorkflow" in {s["name"] for s in api}
    assert "case-traced-1" not in json.dumps(root)  # a route template, never the path

    async def through_the_worker() -> bool:
        names = {s["name"] for s in spans(stack, "case-worker") if s["trace_id"] == trace_id}
        return "RunActivity:record_case_events" in names

    await eventually(through_the_worker, within_s=30, what="the activity span")
    worker = {s["name"] for s in spans(stack, "case-worker") if s["trace_id"] == trace_id}
    assert "RunWorkflow:SettlementCaseWorkflow" in worker

    records = await read_records(stack.settings.kafka_bootstrap_servers, stack.settings.kafka_topic)
    traced = [dict(r.headers).get("ce_traceparent", b"").decode() for r in records]
    assert any(trace_id in t for t in traced), "no record carries the trace"

    async def applied() -> bool:
        return any(trace_id in s["links"] for s in spans(stack, "projection"))

    await eventually(applied, within_s=30, what="the projection batch linked to the trace")

    logs = stack.stack.logs
    recorded = log_lines(logs / "case-worker.log", trace_id)
    assert any(
        line["event"] == "events recorded"
        and line["workflow_id"] == workflow_id_for("case-traced-1")
        for line in recorded
    )
    opened_log = log_lines(logs / "api.log", trace_id)
    assert any(line["event"] == "case opened" for line in opened_log)

    # A later step is a trace of its own, just as whole: the request, the activity that
    # records its events, the Kafka record, the projection batch.
    step_trace = secrets.token_hex(16)
    step_headers = headers | {
        "Idempotency-Key": str(uuid.uuid4()),
        "traceparent": f"00-{step_trace}-{secrets.token_hex(8)}-01",
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        stepped = await http.post(
            "/cases/case-traced-1/settlement-interview",
            json={"held_on": "2020-03-01"},
            headers=step_headers,
        )
    assert stepped.status_code == 200, stepped.text

    async def recorded_in_the_steps_trace() -> bool:
        return any(
            s["name"] == "record events" and s["trace_id"] == step_trace
            for s in spans(stack, "case-worker")
        )

    await eventually(recorded_in_the_steps_trace, within_s=30, what="the step's activity span")
    records = await read_records(stack.settings.kafka_bootstrap_servers, stack.settings.kafka_topic)
    interview = [
        dict(r.headers)
        for r in records
        if dict(r.headers)["ce_type"].endswith(b"SettlementInterviewHeld.v1")
        and dict(r.headers)["ce_subject"] == b"case-traced-1"
    ]
    assert [step_trace in h.get("ce_traceparent", b"").decode() for h in interview] == [True]

    async def step_applied() -> bool:
        return any(step_trace in s["links"] for s in spans(stack, "projection"))

    await eventually(step_applied, within_s=30, what="the projection batch linked to the step")


async def test_temporal_keeps_the_household_encrypted(stack: RunningStack):
    """Read with the key, the case is whole; read raw, as the cluster's operators and backups
    see it, every payload is ciphertext and no birth date shows."""
    from temporalio.client import Client

    grant = household("case-sealed-1", births=(date(1988, 4, 2),))
    await stack.cases.grant_permit(grant)
    state = await stack.cases.state("case-sealed-1")
    assert [p.birth_date for p in state.persons] == [date(1988, 4, 2)]

    raw = await Client.connect(stack.settings.temporal_address)  # no codec, no key
    history = await raw.get_workflow_handle(workflow_id_for("case-sealed-1")).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert [p.metadata["encoding"] for p in started.input.payloads] == [b"binary/encrypted"]
    text = history.to_json()
    assert "1988-04-02" not in readable(text)
    assert "case-sealed-1" in text  # ids and search attributes stay readable for operations
