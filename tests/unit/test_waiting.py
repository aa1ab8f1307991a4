"""Tests wait through tests/waiting.py only: a bare sleep is a race or a slow test."""

import ast
from pathlib import Path

TESTS = Path(__file__).parents[1]


def _sleeps(source: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "sleep"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"asyncio", "time"}
        ):
            lines.append(node.lineno)
    return lines


def test_no_test_sleeps_outside_the_waiting_helpers():
    found = {
        str(p.relative_to(TESTS)): _sleeps(p)
        for p in TESTS.rglob("*.py")
        if p.name != "waiting.py" and _sleeps(p)
    }
    assert found == {}, "wait with tests/waiting.py (eventually, holds, pause)"
