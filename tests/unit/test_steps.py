"""The one command table (workflows/steps.py) holds together: each step names an update of its
workflow that takes exactly that command, and every update of a workflow is a step."""

import inspect
import typing

import pytest

from schemas.commands import Command
from workflows.qualification import QualificationWorkflow
from workflows.settlement_case import SettlementCaseWorkflow
from workflows.steps import CASE_STEPS, PERSON_STEPS, STEP, Step

TABLES = [(SettlementCaseWorkflow, CASE_STEPS), (QualificationWorkflow, PERSON_STEPS)]


def _updates(workflow_class: type) -> dict[str, type[Command]]:
    """The workflow's updates (a method with a ``validator`` decorator is an update), each
    with the command it takes."""
    found = {}
    for name, fn in inspect.getmembers(workflow_class, inspect.isfunction):
        if hasattr(fn, "validator"):
            found[name] = typing.get_type_hints(fn)["cmd"]
    return found


@pytest.mark.parametrize(("workflow_class", "steps"), TABLES)
def test_each_step_is_an_update_of_its_workflow_taking_its_command(workflow_class, steps):
    updates = _updates(workflow_class)
    assert {s.update: s.command for s in steps} == updates


def test_each_command_has_one_step_and_one_path():
    steps: list[Step] = [*CASE_STEPS, *PERSON_STEPS]
    assert len(STEP) == len(steps)
    assert len({s.path for s in CASE_STEPS}) == len(CASE_STEPS)
    assert len({s.path for s in PERSON_STEPS}) == len(PERSON_STEPS)


def test_every_case_step_is_allowed_somewhere_and_none_once_exited():
    for step in CASE_STEPS:
        assert step.stages, step.update
        assert "exited" not in step.stages


def test_workflow_modules_import_ours_by_their_full_name():
    """Inside Temporal's sandbox, ``from workflows import rules`` loads a second copy of the
    module (the package is re-imported, its submodule with it), so ``except RuleViolation``
    in one module misses the other copy's: a refusal then reaches the caller as an unknown
    failure instead of OutOfOrderCommand. ``import workflows.rules as rules`` passes through."""
    import ast
    from pathlib import Path

    import workflows

    offenders = []
    for source in Path(workflows.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "workflows":
                offenders.append(f"{source.name}:{node.lineno}")
    assert offenders == []
