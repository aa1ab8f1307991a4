"""The work queues on the real embedded stack: one household taken through every role's queue
over HTTP, one step at a time — its reception centre's list, the caseworker's allocation
queue, the municipality's inbox (profile only), its accepted households, and finally the
qualification deadlines of its settled adult."""

import shlex
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.service import RPCError

from schemas.ids import workflow_id_for
from schemas.qualification import qualification_workflow_id
from workers.platform.temporal import connect

from .conftest import RunningStack, cli, eventually, stack_settings, start_stack

FIXTURES = Path(__file__).parents[1] / "fixtures"
TODAY = datetime.now(UTC).date()


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    # Today's dates need today's municipalities: the few the tests use, loaded from a file
    # as an operator loads the current classification.
    settings = stack_settings(
        tmp_path_factory.mktemp("queues"),
        municipality_classification_file=FIXTURES / "municipalities-2024-partial.jsonl",
        municipality_classification_valid_from="2024-01-01",
    )
    async for running in start_stack(settings):
        yield running


async def test_a_household_moves_through_every_roles_queue(stack: RunningStack):
    async def run(line: str) -> str:
        return (await cli(stack, *shlex.split(line))).strip()

    allocation_year = (TODAY - timedelta(days=100)).year
    await run(
        f"places decide --municipality 0301 --year {allocation_year} --requested 10 "
        f"--decided 10 --on {day(150)}"
    )
    tokens = {
        "caseworker": await run("tokens mint caseworker --subject imdi-1"),
        "reception": await run(
            "tokens mint reception --subject staff-1 --reception-centre mottak-q"
        ),
        "oslo": await run("tokens mint municipality --subject oslo-1 --municipality 0301"),
        "operations": await run("tokens mint operations --subject ops-1"),
    }

    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}", "X-Purpose": "daily casework"}

    def step(who: str) -> dict[str, str]:
        return auth(who) | {"Idempotency-Key": str(uuid.uuid4())}

    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def listed(who: str, queue: str, key: str = "case_id", **params: str) -> list[str]:
            r = await http.get(f"/queues/{queue}", params=params, headers=auth(who))
            assert r.status_code == 200, r.text
            return [row[key] for row in r.json()["rows"]]

        async def shows(
            who: str, queue: str, wanted: str, key: str = "case_id", **params: str
        ) -> None:
            async def there() -> bool:
                return wanted in await listed(who, queue, key, **params)

            await eventually(there, within_s=60, what=f"{wanted} in the {queue} queue")

        async def post(who: str, path: str, body: dict) -> None:
            r = await http.post(f"/cases/case-q-1/{path}", json=body, headers=step(who))
            assert r.status_code == 200, r.text

        opened = await http.post(
            "/cases",
            json={
                "case_id": "case-q-1",
                "case_type": "reception",
                "permit_date": day(120),
                "persons": [
                    {"person_id": "case-q-1-p0", "birth_date": "1985-03-01"},
                    {"person_id": "case-q-1-p1", "birth_date": "2016-07-01"},
                ],
                "reception_centre": "mottak-q",
            },
            headers=step("caseworker"),
        )
        assert opened.status_code == 201, opened.text
        await shows("reception", "reception", "case-q-1")
        assert "case-q-1" not in await listed("caseworker", "allocation")

        await post("reception", "settlement-interview", {"held_on": day(110)})
        await shows("caseworker", "allocation", "case-q-1")

        await post(
            "caseworker", "allocation", {"municipality_number": "0301", "allocated_on": day(100)}
        )
        await shows("oslo", "inbox", "case-q-1")
        inbox = await http.get("/queues/inbox", headers=auth("oslo"))
        [row] = [r for r in inbox.json()["rows"] if r["case_id"] == "case-q-1"]
        assert row["view"] == "profile"
        assert row["reception_centre"] is None
        assert "case-q-1" not in await listed("caseworker", "allocation")

        await post("oslo", "acceptance", {"accepted_on": day(95)})
        await shows("oslo", "accepted", "case-q-1")
        assert "case-q-1" not in await listed("oslo", "inbox")

        await post(
            "oslo",
            "settlements",
            {
                "settlements": [
                    {"person_id": "case-q-1-p0", "settled_on": day(70)},
                    {"person_id": "case-q-1-p1", "settled_on": day(70)},
                ]
            },
        )
        # The adult's programme must start within 3 months of settlement: 20 days from now.
        await shows("oslo", "qualification", "case-q-1-p0", key="person_id")
        assert "case-q-1" not in await listed("oslo", "accepted")
        assert "case-q-1" not in await listed("reception", "reception")

        found = await http.get("/persons/case-q-1-p1/case", headers=auth("caseworker"))
        assert found.status_code == 200, found.text
        assert (found.json()["case_id"], found.json()["stage"]) == ("case-q-1", "settled")
        refused = await http.get("/queues/inbox", headers=auth("operations"))
        assert refused.status_code == 403

        # The case's history goes, as the namespace's retention removes a closed case's: the
        # case, its timeline and its figures are still there.
        client = await connect(stack.settings)
        for workflow_id in (workflow_id_for("case-q-1"), qualification_workflow_id("case-q-1-p0")):
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=stack.settings.temporal_namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id),
                )
            )

            async def gone(workflow_id: str = workflow_id) -> bool:
                try:
                    await client.get_workflow_handle(workflow_id).describe()
                except RPCError:
                    return True
                return False

            await eventually(gone, within_s=30, what="a workflow's history to be deleted")
        read = await http.get("/cases/case-q-1", headers=auth("caseworker"))
        assert read.status_code == 200, read.text
        assert (read.json()["stage"], len(read.json()["persons"])) == ("settled", 2)
        assert read.json()["persons"][0]["birth_date"] == "1985-03-01"
        timeline = await http.get("/cases/case-q-1/timeline", headers=auth("oslo"))
        assert timeline.status_code == 200, timeline.text
        assert [e["type"] for e in timeline.json()["events"]].count("PersonSettled") == 2
        record = await http.get("/persons/case-q-1-p0/qualification", headers=auth("oslo"))
        assert record.status_code == 200, record.text
        assert record.json()["settled_on"] == day(70)
        settled_year = (TODAY - timedelta(days=70)).year
        figures = await http.get(f"/figures?period={settled_year}", headers=auth("operations"))
        total = next(g for g in figures.json()["groups"] if g["group"] == "total")
        assert total["settled"] == 2


async def test_a_step_just_taken_shows_in_the_next_read(stack: RunningStack):
    """Read-your-writes: whatever the projection's lag, the read that follows a step shows
    it — for the case (scope included: the municipality that just accepted sees its case)
    and for an adult's qualification record. Many households, so a projection batch lands
    between the reads of some of them."""
    year = (TODAY - timedelta(days=40)).year
    await cli(
        stack,
        *shlex.split(
            f"places decide --municipality 4601 --year {year} --requested 50 --decided 50 "
            f"--on {year}-01-02"
        ),
    )
    caseworker = (await cli(stack, *shlex.split("tokens mint caseworker --subject c-ryw"))).strip()
    bergen = (
        await cli(
            stack, *shlex.split("tokens mint municipality --subject b-ryw --municipality 4601")
        )
    ).strip()
    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"

    def as_(token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "X-Purpose": "read your writes",
        }

    missed: list[tuple[str, str, int, object]] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for n in range(12):
            case_id, adult = f"case-ryw-{n}", f"case-ryw-{n}-a"
            permit = {
                "case_id": case_id,
                "case_type": "reception",
                "permit_date": day(70),
                "reception_centre": "mottak-ryw",
                "persons": [{"person_id": adult, "birth_date": "1990-01-01"}],
            }
            opened = await http.post("/cases", json=permit, headers=as_(caseworker))
            assert opened.is_success, opened.text
            for path, body, who, stage in (
                ("settlement-interview", {"held_on": day(60)}, caseworker, "settlement_ready"),
                (
                    "allocation",
                    {"municipality_number": "4601", "allocated_on": day(40)},
                    caseworker,
                    "allocated",
                ),
                ("acceptance", {"accepted_on": day(35)}, bergen, "accepted"),
                (
                    "settlements",
                    {"settlements": [{"person_id": adult, "settled_on": day(20)}]},
                    bergen,
                    "settled",
                ),
            ):
                step = await http.post(f"/cases/{case_id}/{path}", json=body, headers=as_(who))
                assert step.is_success, (path, step.text)
                read = await http.get(f"/cases/{case_id}", headers=as_(who))
                if read.status_code != 200 or read.json()["stage"] != stage:
                    missed.append((case_id, path, read.status_code, read.json()))

            async def record_open(adult: str = adult) -> bool:
                answer = await http.get(f"/persons/{adult}/qualification", headers=as_(bergen))
                return answer.status_code == 200

            await eventually(record_open, within_s=30, what="the adult's record")
            for path, body, field in (
                ("mapping", {"mapped_on": day(10)}, "mapped_on"),
                (
                    "programme-decision",
                    {"decided_on": day(9), "end_goal": "work", "planned_months": 12},
                    "programme_decided_on",
                ),
                ("programme-start", {"started_on": day(8)}, "programme_started_on"),
            ):
                step = await http.post(f"/persons/{adult}/{path}", json=body, headers=as_(bergen))
                assert step.is_success, (path, step.text)
                read = await http.get(f"/persons/{adult}/qualification", headers=as_(bergen))
                if read.status_code != 200 or read.json().get(field) is None:
                    missed.append((adult, path, read.status_code, read.json()))
    assert missed == []
