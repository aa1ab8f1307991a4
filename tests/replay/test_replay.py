"""Every committed history of a shipped workflow version must replay on today's code. The
list of histories is derived from the declared versions (workflows/patches.py), and each
version's history must record the patches it brought: a patch shipped without a history, or
a history left without its version, fails here."""

import ast
import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows import patches
from workflows.municipality_places import MunicipalityPlacesWorkflow
from workflows.qualification import QualificationWorkflow
from workflows.settlement_case import SettlementCaseWorkflow

DIRECTORY = Path(__file__).parent / "histories"
HISTORIES = sorted(DIRECTORY.glob("*.json"))
WORKFLOWS = {
    "settlement_case": SettlementCaseWorkflow,
    "qualification": QualificationWorkflow,
    "municipality_places": MunicipalityPlacesWorkflow,
}
WORKFLOW_SOURCES = Path(patches.__file__).parent


def _declared() -> dict[str, tuple[str, ...]]:
    """History file name → the patch ids its version brought."""
    return {
        f"{workflow}_v{n}.json": introduced
        for workflow, versions in patches.VERSIONS.items()
        for n, (_, introduced) in enumerate(versions, start=1)
    }


def _recorded_patches(path: Path) -> set[str]:
    found = set()
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker["markerName"] == "core_patch":
            data = marker["details"]["patch-data"]["payloads"][0]["data"]
            found.add(json.loads(base64.b64decode(data))["id"])
    return found


def _patched_in_code() -> set[str]:
    """Every patch id a workflow branches on: the constants passed to ``workflow.patched``."""
    names = set()
    for source in WORKFLOW_SOURCES.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "patched"
            ):
                (arg,) = node.args
                assert isinstance(arg, ast.Name), f"{source.name}: patch ids are named constants"
                names.add(getattr(patches, arg.id))
    return names


def test_there_is_a_history_for_every_declared_version_and_no_other():
    assert [p.name for p in HISTORIES] == sorted(_declared())


def test_every_patch_in_the_code_was_shipped_in_a_version():
    shipped = [p for introduced in _declared().values() for p in introduced]
    assert len(shipped) == len(set(shipped)), "a patch id is declared in two versions"
    assert _patched_in_code() == set(shipped)


@pytest.mark.parametrize("name", sorted(_declared()))
def test_each_version_history_records_the_patches_it_brought(name: str):
    assert set(_declared()[name]) <= _recorded_patches(DIRECTORY / name)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240 - tiny file
    workflow = WORKFLOWS[path.stem.rsplit("_", 1)[0]]
    replayer = Replayer(workflows=[workflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
