"""Operations through the CLI on the real stack: bulk withdrawal (as in March 2020) through
the dev server's visibility store, and bulk import from an existing register."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from schemas.commands import (
    AllocateToMunicipality,
    RecordCompetenceMapping,
    RecordSettlementApplication,
    RecordSettlementInterview,
)
from schemas.enums import CaseStage, ServiceNeed
from schemas.ids import workflow_id_for
from schemas.places import RecordPlacesDecision
from tests.deploy.test_deploy_files import LIVE_SDK_METRICS, promtool
from tests.factories import household
from tests.import_lines import as_import_line, importable
from tests.integration.conftest import (
    RunningStack,
    bosetting,
    cli,
    eventually,
    stack_settings,
    start_stack,
)
from tests.integration.test_api_http import read_records
from tests.oracle import as_comparable, group_figures, oracle
from tests.waiting import holds, pause
from workers.api.audit import reads_of
from workers.cli.common import cli_reader
from workers.cli.demo import event_log_count, places_event_count
from workers.figures.places import places_of_year
from workers.figures.queries import projection_status, waiting_time
from workers.operations.alerts import Alert
from workers.services.plans import drive_household, ensure_places
from workers.simulation.synthetic import generate

pytestmark = pytest.mark.integration

QUERY = "CaseStage IN ('allocated','accepted') AND MunicipalityNumber='1804'"


@pytest.fixture(scope="module")
async def stack(tmp_path_factory) -> AsyncIterator[RunningStack]:
    async for running in start_stack(stack_settings(tmp_path_factory.mktemp("bulk"))):
        yield running


async def test_withdraw_every_allocation_a_query_finds(stack: RunningStack):
    # Everyone allocated to Bodø, nobody accepted or settled yet.
    before_allocation = (
        RecordSettlementApplication,
        RecordCompetenceMapping,
        RecordSettlementInterview,
    )
    plans = [
        replace(
            plan,
            steps=[
                *(s for s in plan.steps if isinstance(s, before_allocation)),
                AllocateToMunicipality(
                    command_id=f"{plan.case_id}/allocate",
                    municipality_number="1804",
                    allocated_on=max(plan.grant.permit_date, date(2020, 1, 2)) + timedelta(days=45),
                ),
            ],
        )
        for plan in generate(12, seed=31, prefix="bulk")
    ]
    await ensure_places(stack.places, plans, label="test")
    await asyncio.gather(*(drive_household(stack.cases, p) for p in plans))
    held = (await stack.places.ledger("1804", 2020)).reserved
    assert held == sum(len(p.grant.persons) for p in plans)

    async def all_visible() -> bool:
        return len(await stack.cases.case_ids(QUERY)) == len(plans)

    await eventually(all_visible, within_s=30, what="the cases to show in visibility")
    withdraw = ["cases", "withdraw", "--query", QUERY, "--on", "2020-12-31"]
    withdraw += ["--reason", "travel_restrictions"]
    dry = await asyncio.to_thread(bosetting, stack, *withdraw, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{len(plans)} cases match" in dry.stdout
    run = await asyncio.to_thread(bosetting, stack, *withdraw)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(plans)} withdrawn, 0 refused" in run.stdout
    for plan in plans:
        state = await stack.cases.state(plan.case_id)
        assert (state.stage, state.withdrawals) == (CaseStage.SETTLEMENT_READY, 1)
    assert (await stack.places.ledger("1804", 2020)).reserved == 0


async def case_events(stack: RunningStack) -> int:
    """The households' events in the log; the places the import decides are events too."""
    return await event_log_count(stack.register) - await places_event_count(stack.register)


async def test_import_validates_every_line_and_a_second_run_repeats_nothing(
    stack: RunningStack, tmp_path
):
    plans = [p for p in generate(150, seed=41, prefix="imp") if importable(p)][:15]
    lines = [as_import_line(p) for p in plans]
    lines.insert(3, "{not json")
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n")

    before = await case_events(stack)
    dry = await asyncio.to_thread(bosetting, stack, "import", str(path), "--dry-run")
    assert dry.returncode == 1
    assert "line 4: not JSON" in dry.stdout
    assert "15 valid cases, 0 council decisions, 1 rejected lines" in dry.stdout
    assert await case_events(stack) == before  # a dry run writes nothing
    assert await stack.cases.case_ids("CaseStage='settled'") == []

    first = await asyncio.to_thread(bosetting, stack, "import", str(path))
    assert first.returncode == 1, first.stderr  # one line was rejected
    assert "imported 15 cases" in first.stdout
    expected = sum(p.event_count for p in plans)
    assert await case_events(stack) - before == expected

    touched = sorted(
        {(a.municipality_number, a.allocated_on.year) for p in plans for a in p.allocations}
    )
    ledgers = [await stack.places.ledger(n, y) for n, y in touched]
    again = await asyncio.to_thread(bosetting, stack, "import", str(path))
    # Exited cases have closed; settled ones are still open for corrections.
    closed = sum(1 for p in plans if p.exit)
    assert f"imported {15 - closed} cases" in again.stdout
    assert f"{closed} already imported and closed" in again.stdout
    assert "0 failed" in again.stdout
    assert await case_events(stack) - before == expected  # nothing twice
    # ...and no municipality was given more places for cases it already has.
    assert [await stack.places.ledger(n, y) for n, y in touched] == ledgers

    for plan in plans:
        expected_stage = CaseStage.EXITED if plan.exit else CaseStage.SETTLED
        assert (await stack.cases.state(plan.case_id)).stage is expected_stage

    async def projected() -> bool:
        logged = await event_log_count(stack.register)  # the places events too
        return (await projection_status(stack.projection)).applied_events >= logged

    await eventually(projected, within_s=60, what="the projection to catch up")
    report = await waiting_time(stack.projection, date(2020, 1, 1), date(2020, 12, 31))
    assert as_comparable(report) == oracle(plans, date(2020, 1, 1), date(2020, 12, 31))


async def test_a_case_allocated_in_2019_is_imported_and_counted_in_the_county_of_then(
    stack: RunningStack, tmp_path
):
    # 1201 Bergen (Hordaland) until 2019, 4601 (Vestland) from 2020: both structures built in.
    line = {
        "format": "bosetting.case/1",
        "case_id": "imp-2019-001",
        "case_type": "reception",
        "permit_date": "2019-02-04",
        "reception_centre": "rc-01",
        "persons": [{"person_id": "imp-2019-001-p0", "birth_date": "1990-05-01"}],
        "interview_held_on": "2019-03-01",
        "allocations": [
            {
                "municipality_number": "1201",
                "allocated_on": "2019-04-01",
                "outcome": "accepted",
                "answered_on": "2019-04-10",
            }
        ],
        "settlements": [{"person_id": "imp-2019-001-p0", "settled_on": "2019-06-03"}],
    }
    path = tmp_path / "2019.jsonl"
    path.write_text(json.dumps(line) + "\n")
    run = await asyncio.to_thread(bosetting, stack, "import", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "imported 1 cases" in run.stdout
    assert (await stack.cases.state("imp-2019-001")).stage is CaseStage.SETTLED

    async def counted() -> bool:
        figures = await asyncio.to_thread(
            bosetting, stack, "metrics", "--year", "2019", "--by", "county", "--json"
        )
        groups = json.loads(figures.stdout)["groups"] if figures.returncode == 0 else []
        return any(g["group"] == "Hordaland" and g["settled"] == 1 for g in groups)

    await eventually(counted, within_s=60, what="the 2019 settlement in Hordaland's figures")


FORMAT_2 = Path(__file__).parents[1] / "fixtures" / "import-format-2.jsonl"
MIGRATION_MOMENTS = (
    datetime(2020, 6, 30, 23, 59, 59, tzinfo=UTC),  # before the late registrations
    datetime(2020, 10, 31, 23, 59, 59, tzinfo=UTC),  # after one correction, before another
    datetime(2021, 3, 31, 23, 59, 59, tzinfo=UTC),  # after everything the old register did
)


def known_then(lines: list[dict], moment: datetime) -> dict[str, dict[str, object]]:
    """The waiting-time groups as the old register knew them at ``moment``, computed here from
    the file alone (and the oracle's plain arithmetic): each step counts from when it was
    registered, corrections included."""

    def by(step: dict) -> bool:
        return datetime.fromisoformat(step["registered_at"]) <= moment

    pairs: dict[str, list[tuple[date, date]]] = {
        "unaccompanied_minor": [],
        "family_with_children": [],
        "other_adult": [],
        "total": [],
    }
    for case in lines:
        if case["format"] != "bosetting.case/2" or not by(case):
            continue
        permit = {p["person_id"]: date.fromisoformat(case["permit_date"]) for p in case["persons"]}
        born = {p["person_id"]: date.fromisoformat(p["birth_date"]) for p in case["persons"]}
        settled: dict[str, date] = {}
        for step in filter(by, case["steps"]):
            on = date.fromisoformat(step["on"])
            if step["step"] == "member_added":
                person = step["person"]
                permit[person["person_id"]] = on
                born[person["person_id"]] = date.fromisoformat(person["birth_date"])
            elif step["step"] in ("settlement",):
                settled |= dict.fromkeys(step["person_ids"], on)
            elif step["step"] == "arrival" and not step.get("placed_in_reception"):
                settled |= {p: on for p in permit if p not in settled}
            elif step["step"] == "settlement_date_corrected":
                settled[step["person_id"]] = on
            elif step["step"] == "permit_date_corrected":
                for p in case["persons"]:
                    permit[p["person_id"]] = on
        if not settled:
            continue
        first = min(settled.values())
        minors = [
            (first.year - b.year - ((first.month, first.day) < (b.month, b.day))) < 18
            for b in born.values()
        ]
        group = (
            "unaccompanied_minor"
            if all(minors)
            else "family_with_children"
            if any(minors)
            else "other_adult"
        )
        for person, t1 in settled.items():
            if date(2020, 1, 1) <= t1 <= date(2020, 12, 31):
                pairs[group].append((permit[person], t1))
                pairs["total"].append((permit[person], t1))

    return {group: group_figures(found) for group, found in pairs.items()}


async def test_a_format_2_migration_reproduces_what_the_old_register_knew_at_each_moment(
    stack: RunningStack,
):
    """Late registrations, a late member, a decline, an exit, travel and arrival, two
    corrections and the councils' decisions, imported with the moments the old register
    registered them: the figures as of three moments before the migration are what the file
    says was known then, through the live system (workflows, event log, Kafka, projection)."""
    lines = [json.loads(line) for line in FORMAT_2.read_text().splitlines()]
    run = await asyncio.to_thread(bosetting, stack, "import", str(FORMAT_2))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "imported 6 cases" in run.stdout
    assert "0 failed" in run.stdout

    async def projected() -> bool:
        logged = await event_log_count(stack.register)
        return (await projection_status(stack.projection)).applied_events >= logged

    await eventually(projected, within_s=60, what="the projection to catch up")
    seen = []
    for moment in MIGRATION_MOMENTS:
        report = await waiting_time(
            stack.projection, date(2020, 1, 1), date(2020, 12, 31), as_of=moment
        )
        groups = {k: v for k, v in as_comparable(report).items() if k != "steering"}
        assert groups == known_then(lines, moment), moment
        seen.append(groups["total"]["settled"])
    assert seen == [2, 9, 9]  # the scenario does move: late registrations arrive between them
    year = (date(2020, 1, 1), date(2020, 12, 31))
    first = await waiting_time(stack.projection, *year, as_of=MIGRATION_MOMENTS[1])
    second = await waiting_time(stack.projection, *year, as_of=MIGRATION_MOMENTS[2])
    # The permit date corrected in 2021 changes the waits known before it.
    assert first.group("total").mean_wait_days != second.group("total").mean_wait_days

    # The councils' decisions as the old register had them, too.
    before = {
        p.key: p for p in await places_of_year(stack.projection, 2020, as_of=MIGRATION_MOMENTS[0])
    }
    after = {
        p.key: p for p in await places_of_year(stack.projection, 2020, as_of=MIGRATION_MOMENTS[1])
    }
    assert (before["3030"].decided, before["3030"].adjusted) == (15, None)
    assert (after["3030"].decided, after["3030"].adjusted) == (15, 12)
    # And the places the imported steps took, when the old register registered them: by the
    # end of June H1 had settled (2 used), H3 and H4 were allocated (3 held).
    assert (before["3030"].used, before["3030"].held) == (2, 3)
    assert (after["3030"].used, after["3030"].held) == (5, 0)
    assert after["3030"].settled == 5  # H1 (2), H3 (1), H4 (2)

    logged, decisions = (
        await event_log_count(stack.register),
        await places_event_count(stack.register),
    )
    again = await asyncio.to_thread(bosetting, stack, "import", str(FORMAT_2))
    assert "0 failed" in again.stdout, again.stdout
    # Run again: no step and no decision recorded twice.
    assert await places_event_count(stack.register) == decisions
    assert await event_log_count(stack.register) == logged


async def test_a_caseworker_records_and_reads_a_council_decision(stack: RunningStack):
    decide = await asyncio.to_thread(
        bosetting,
        stack,
        "places",
        "decide",
        "--municipality",
        "5401",
        "--year",
        "2020",
        "--requested",
        "12",
        "--decided",
        "9",
        "--minors-decided",
        "2",
        "--on",
        "2019-11-20",
    )
    assert decide.returncode == 0, decide.stdout + decide.stderr
    assert "5401 Tromsø" in decide.stdout
    ledger = await stack.places.ledger("5401", 2020)
    assert ledger.decision is not None
    assert (ledger.decision.requested, ledger.decision.decided, ledger.left(True)) == (12, 9, 2)
    show = await asyncio.to_thread(
        bosetting, stack, "places", "show", "--municipality", "5401", "--year", "2020"
    )
    assert "Troms og Finnmark" in show.stdout
    refused = await asyncio.to_thread(
        bosetting,
        stack,
        "places",
        "decide",
        "--municipality",
        "1201",
        "--year",
        "2020",
        "--requested",
        "1",
        "--decided",
        "1",
        "--on",
        "2019-11-20",
    )
    assert refused.returncode == 1
    assert "municipality_number: 1201 is not a municipality" in refused.stdout


async def test_suggestions_rank_the_municipalities_with_room_and_say_why(
    stack: RunningStack, tmp_path
):
    for number, decided in (("1103", 30), ("5401", 30), ("3005", 30), ("1507", 1)):
        await stack.places.record_decision(
            number,
            2022,
            RecordPlacesDecision(
                command_id=f"suggest-{number}",
                decided_on=date(2021, 11, 1),
                requested=decided,
                decided=decided,
            ),
        )
    case_id = "suggest-case-1"
    births = (date(1980, 1, 1), date(1982, 1, 1))
    await stack.cases.grant_permit(household(case_id, permit=date(2022, 1, 10), births=births))
    await stack.cases.execute(
        case_id,
        RecordSettlementInterview(
            command_id="i",
            held_on=date(2022, 1, 20),
            close_family_municipality="1103",
            service_needs=[ServiceNeed.SPECIALIST_HEALTH],
        ),
    )
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(
        '{"number": "5401", "services": ["specialist_health"]}\n{"number": "3005"}\n'
    )

    async def ledgers_visible() -> bool:
        return len(await stack.places.ledgers(2022)) == 4

    await eventually(ledgers_visible, within_s=30, what="the 2022 ledgers in visibility")
    args = ["cases", "suggest", case_id, "--on", "2022-02-01", "--profiles", str(profiles)]
    args += ["--purpose", "allocation"]
    run = await asyncio.to_thread(bosetting, stack, *args, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    # The household's record was read: audited as the API's suggestions route audits it.
    (read,) = await reads_of(stack.register, f"case/{case_id}")
    assert read.subject == cli_reader().subject
    assert (read.action, read.purpose, read.outcome) == (
        "case.suggestions",
        "allocation",
        "granted",
    )
    ranked = json.loads(run.stdout)
    # Bodø (1804) has no places decided for 2022 and 1507 too few for two persons.
    assert [s["municipality_number"] for s in ranked] == ["1103", "5401", "3005"]
    assert ranked[0]["reasons"] == ["close_family", "places_left"]
    assert ranked[1]["reasons"] == ["services", "places_left"]
    assert ranked[2]["unmet_needs"] == ["specialist_health"]
    table = await asyncio.to_thread(bosetting, stack, *args)
    assert "1103 Stavanger" in table.stdout, table.stdout
    assert "close family" in table.stdout


async def test_compact_continues_the_cases_a_query_finds_as_new(stack: RunningStack):
    case_id = "compact-case-1"
    await stack.cases.grant_permit(household(case_id, permit=date(2022, 1, 10)))
    await stack.cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2022, 1, 20))
    )
    before = await stack.cases.state(case_id)
    first_run = await stack.cases.run_id(case_id)
    query = f"WorkflowId='{workflow_id_for(case_id)}'"

    async def visible() -> bool:
        return await stack.cases.case_ids(query) == [case_id]

    await eventually(visible, within_s=30, what="the case in visibility")
    run = await asyncio.to_thread(bosetting, stack, "cases", "compact", "--query", query)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 cases asked to continue as new" in run.stdout

    async def continued() -> bool:
        return await stack.cases.run_id(case_id) != first_run

    await eventually(continued, within_s=30, what="a new run of the case")
    assert await stack.cases.state(case_id) == before


async def test_status_sees_a_killed_worker_and_its_return(stack: RunningStack):
    """Operations' ten-second view: every part alive; a worker killed with SIGKILL shows
    within seconds (down, or restarted by the supervisor with the crash still news), then
    clears."""

    async def checks() -> dict[str, dict[str, str]]:
        done = await asyncio.to_thread(bosetting, stack, "status", "--json")
        assert done.stdout, done.stderr
        return {c["name"]: c for c in json.loads(done.stdout)["checks"]}

    async def all_alive() -> bool:
        found = await checks()
        return all(found[c]["verdict"] == "OK" for c in ("case-worker", "projection", "api"))

    await eventually(all_alive, within_s=30, what="every worker's heartbeat")
    found = await checks()
    assert found["temporal"]["verdict"] == "OK"
    assert found["event log → Kafka"]["verdict"] == "OK"
    monitor = f"http://127.0.0.1:{stack.settings.monitor_port}"
    ok_gauge = 'bosetting_check_ok{check="projection"}'

    async def monitor_says(value: str) -> bool:
        async with httpx.AsyncClient(timeout=5) as http:
            metrics = (await http.get(f"{monitor}/metrics")).text
        return f"{ok_gauge} {value}" in metrics

    await eventually(lambda: monitor_says("1.0"), within_s=30, what="the monitor's gauge")
    await stack.drive(generate(1, seed=47, prefix="ops"))  # activities ran, tasks waited
    async with httpx.AsyncClient(timeout=5) as http:  # the Temporal SDK's own metrics
        sdk = await http.get(f"http://127.0.0.1:{stack.settings.worker_metrics_port}/metrics")
    assert "temporal_worker_task_slots_available" in sdk.text
    for name in LIVE_SDK_METRICS:  # what deploy/'s dashboard and alerts query
        assert f"{name}_bucket" in sdk.text, name
    # Every endpoint the scrape configuration names, as a real Prometheus would read it:
    # promtool parses each and finds no counter without _total and no millisecond unit.
    async with httpx.AsyncClient(timeout=5) as http:
        for port in (
            stack.settings.worker_metrics_port,
            stack.settings.projection_metrics_port,
            stack.settings.monitor_port,
        ):
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            linted = promtool("check", "metrics", stdin=text)
            problems = [
                line
                for line in (linted.stdout + linted.stderr).splitlines()
                if "_total" in line or "milliseconds" in line or "error" in line.lower()
            ]
            assert problems == [], (port, problems)
    killed = stack.stack.kill("projection")

    async def noticed() -> bool:
        projection = (await checks())["projection"]
        if projection["verdict"] == "DOWN":
            return True
        return projection["verdict"] == "WARN" and f"pid {killed} " in projection["detail"]

    await eventually(noticed, within_s=20, what="the killed projection in the status")
    await eventually(lambda: monitor_says("0.0"), within_s=20, what="the monitor to see it")
    await stack.stack.wait_ready("projection")

    async def cleared() -> bool:
        return (await checks())["projection"]["verdict"] == "OK"

    await eventually(cleared, within_s=60, what="the restarted projection to clear")
    await eventually(lambda: monitor_says("1.0"), within_s=30, what="the gauge to clear")
    async with httpx.AsyncClient(timeout=5) as http:
        health = await http.get(f"{monitor}/health")
    body = health.json()
    assert (health.status_code, body["status"]) in ((200, "ok"), (503, "degraded"))
    assert all(c["verdict"] != "OK" for c in body["failing"])
    assert "projection" not in {c["name"] for c in body["failing"]}  # it cleared
    alerts = (stack.stack.logs / "monitor.log").read_text()
    assert '"check": "projection"' in alerts
    assert '"alert cleared"' in alerts
    on_topic = [  # and as CloudEvents on the alerts topic, keyed by the check
        (dict(r.headers)["ce_type"], Alert.model_validate_json(r.value))
        for r in await read_records(
            stack.settings.kafka_bootstrap_servers, stack.settings.kafka_alerts_topic
        )
        if r.key == b"projection"
    ]
    assert [t for t, _ in on_topic][-2:] == [
        b"no.bosetting.alert.raised.v1",
        b"no.bosetting.alert.cleared.v1",
    ]
    assert on_topic[-2][1].verdict in ("DOWN", "WARN")
    table = await asyncio.to_thread(bosetting, stack, "status")
    found = await checks()
    assert "projection" in table.stdout
    # The exit code says whether every check is OK, as the JSON does.
    assert (table.returncode == 0) == all(c["verdict"] == "OK" for c in found.values())


async def test_lag_is_visible_while_the_projection_is_stopped(stack: RunningStack):
    """The monitor measures the topic's high-water marks itself, so a stopped projection's
    lag grows in the status (it cannot report its own), and clears once it runs again."""
    group = f"consumer {stack.settings.projection_group_id}"

    seen: list[str] = []

    async def lag() -> float:
        done = await asyncio.to_thread(bosetting, stack, "status", "--json")
        found = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
        assert found["broker"]["verdict"] == "OK", found["broker"]
        seen.append(found[group]["detail"])
        return float(found[group]["value"])

    async def caught_up() -> bool:
        return await lag() == 0

    await eventually(caught_up, within_s=60, what="the projection to catch up")
    # As an operator would, from another shell: the supervisor must not restart it.
    await cli(stack, "dev", "hold", "projection")
    held = stack.stack.components["projection"].process
    assert held is not None
    await holds(lambda: held.poll() is not None, for_s=2, what="the held projection stopped")
    try:
        plans = generate(3, seed=53, prefix="held")
        await stack.drive(plans)

        async def behind() -> bool:
            return await lag() >= sum(p.event_count for p in plans)

        await eventually(behind, within_s=30, what="the lag of the stopped projection")
        assert "the oldest written" in seen[-1]  # and how far behind in time
    finally:
        await cli(stack, "dev", "release", "projection")
    await eventually(caught_up, within_s=60, what="the lag to clear after the restart")


async def test_commands_wait_out_a_temporal_restart(stack: RunningStack):
    """Temporal is away for fifteen seconds: the case and places services call again with
    the same ids instead of failing, and every household gets through once."""
    plans = generate(3, seed=59, prefix="patient")
    await stack.stack.hold("temporal")

    async def back_in_a_while() -> None:
        # Longer than the Temporal client's own retries (about ten seconds).
        await pause(15, "longer than the Temporal client's own retries")
        await stack.stack.release("temporal")

    returning = asyncio.create_task(back_in_a_while())
    await stack.drive(plans)  # while Temporal is down, and after it is back
    await returning
    for plan in plans:
        state = await stack.cases.state(plan.case_id)
        assert state.case_id == plan.case_id
