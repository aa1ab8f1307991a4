"""Every committed history of a shipped workflow version must replay on today's code."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.qualification import QualificationWorkflow
from workflows.settlement_case import SettlementCaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
WORKFLOWS = {"settlement_case": SettlementCaseWorkflow, "qualification": QualificationWorkflow}


def test_there_is_a_history_for_every_shipped_version():
    assert [p.name for p in HISTORIES] == [
        "qualification_v1.json",
        "qualification_v2.json",  # household-protected records
        "settlement_case_v1.json",
        "settlement_case_v2.json",
        "settlement_case_v3.json",
        "settlement_case_v4.json",
        "settlement_case_v5.json",  # step-clock: LastStepAt
        "settlement_case_v6.json",  # protected households: places, PersonSettled, qualification
    ]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240 - tiny file
    workflow = WORKFLOWS[path.stem.rsplit("_", 1)[0]]
    replayer = Replayer(workflows=[workflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
