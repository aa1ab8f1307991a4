import json
from datetime import date

import pytest

from schemas.commands import AcceptAllocation, DeclineAllocation, WithdrawAllocation
from schemas.imports import ImportedPlaces2
from tests.import_lines import as_import_line, importable
from workers.allocation.municipalities import register
from workers.services.importer import parse_lines, to_decision
from workers.simulation.synthetic import generate

PLAN = next(
    p
    for p in generate(40, seed=3)
    if importable(p)
    and p.settlements
    and any(isinstance(s, DeclineAllocation | WithdrawAllocation) for s in p.steps)
)
GOOD = as_import_line(PLAN)


def line(**changes) -> str:
    data = json.loads(GOOD)
    data.update(changes)
    return json.dumps(data)


def problems(*lines: str) -> list[str]:
    return [str(p) for p in parse_lines(lines, register()).rejected]


def test_a_line_becomes_the_same_steps_the_household_went_through():
    parsed = parse_lines([GOOD], register())
    assert parsed.rejected == []
    [(number, plan)] = parsed.plans
    assert number == 1
    assert plan.event_count == PLAN.event_count
    assert plan.grant.case_id == PLAN.case_id
    assert plan.settlements == PLAN.settlements
    assert [type(s) for s in plan.steps] == [type(s) for s in PLAN.steps]
    assert plan.grant.command_id == f"import/{PLAN.case_id}/permit"


def test_every_bad_line_is_named_with_its_field_and_the_good_ones_pass():
    allocations = json.loads(GOOD)["allocations"]
    accepted_first = [dict(allocations[-1]), *allocations]
    bad = [
        "{not json",
        line(format="bosetting.case/0"),
        line(permit_date="2020-02-30"),
        line(allocations=accepted_first),
        line(case_id="hh-01018512345"),
    ]
    found = problems(GOOD, *bad, "", GOOD)
    assert found[0].startswith("line 2: not JSON")
    assert (
        found[1]
        == "line 3: format: must be one of bosetting.case/1, bosetting.case/2, bosetting.places/2"
    )
    assert found[2].startswith("line 4: permit_date:")
    assert found[3] == "line 5: allocations.0.outcome: only the last allocation may be accepted"
    assert found[4].startswith("line 6: case_id: must be a pseudonymous reference")
    assert "01018512345" not in found[4]  # the identity-shaped value is not echoed back
    assert found[5] == "line 8: case_id: already on line 1"
    assert len(found) == 6


def test_an_accepted_allocation_needs_its_answer_date():
    allocations = json.loads(GOOD)["allocations"]
    allocations[-1]["answered_on"] = None
    [problem] = problems(line(allocations=allocations))
    assert "answered_on: required when the outcome is accepted" in problem


def test_settlement_before_acceptance_is_refused():
    settlements = json.loads(GOOD)["settlements"]
    settlements[0]["settled_on"] = "2019-01-01"
    [problem] = problems(line(settlements=settlements))
    assert "settled_on may not be before acceptance" in problem


@pytest.mark.parametrize(
    ("number", "day", "expected"),
    [
        ("1201", "2020-06-01", "1201 is not a municipality on 2020-06-01"),
        ("4601", "2019-06-01", "4601 is not a municipality on 2019-06-01"),  # Bergen was 1201
        ("1201", "2015-06-01", "no municipality classification covers 2015-06-01"),
    ],
)
def test_an_allocation_to_a_number_that_was_no_municipality_then_is_refused(number, day, expected):
    data = json.loads(GOOD)
    data.update(
        permit_date=day,
        interview_held_on=day,
        allocations=[{"municipality_number": number, "allocated_on": day, "outcome": "pending"}],
        settlements=[],
    )
    for p in data["persons"]:
        p["birth_date"] = min(p["birth_date"], "2014-12-31")
    [problem] = problems(json.dumps(data))
    assert problem.startswith("line 1: allocations.0:")
    assert expected in problem


def test_a_birth_after_the_permit_is_refused():
    data = json.loads(GOOD)
    data["persons"][0]["birth_date"] = "2021-01-01"
    [problem] = problems(json.dumps(data))
    assert "birth_date may not be after permit_date" in problem


def test_the_readme_example_is_a_valid_line():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split('```json\n{"format": "bosetting.case/1"', 1)[1].split("```", 1)[0]
    one_line = json.dumps(json.loads('{"format": "bosetting.case/1"' + example))
    parsed = parse_lines([one_line], register())
    assert parsed.rejected == []
    [(_, plan)] = parsed.plans
    answers = [type(s) for s in plan.steps if isinstance(s, AcceptAllocation | DeclineAllocation)]
    assert (answers, len(plan.settlements)) == ([DeclineAllocation, AcceptAllocation], 2)


def held(*lines: str) -> tuple[list[str], list[str], list[str]]:
    parsed = parse_lines(lines, register())
    return (
        [plan.case_id for _, plan in parsed.plans],
        [str(p) for p in parsed.rejected],
        [str(p) for p in parsed.held],
    )


def test_a_person_in_two_cases_is_imported_once_and_the_second_held_naming_both_lines():
    first = json.loads(GOOD)
    second = json.loads(GOOD) | {
        "case_id": first["case_id"] + "-again",
        "permit_date": "2019-12-30",
    }
    second["persons"] = [second["persons"][0] | {"birth_date": "1960-01-01"}]
    imported, rejected, on_hold = held(json.dumps(first), "", json.dumps(second))
    assert imported == [first["case_id"]]
    assert rejected == []
    assert on_hold == [
        "line 3: persons.0.person_id: the same person as in the case on line 1; "
        "held for review, not imported"
    ]
    assert first["persons"][0]["person_id"] not in on_hold[0]  # named by place, not value


def test_a_second_household_with_the_same_birth_dates_and_permit_date_is_held():
    first = json.loads(GOOD)
    twin = json.loads(GOOD) | {"case_id": first["case_id"] + "-twin"}
    renamed = {p["person_id"]: f"{twin['case_id']}-p{i}" for i, p in enumerate(first["persons"])}
    twin["persons"] = [p | {"person_id": renamed[p["person_id"]]} for p in first["persons"]]
    twin["settlements"] = [s | {"person_id": renamed[s["person_id"]]} for s in first["settlements"]]
    imported, _, on_hold = held(json.dumps(first), json.dumps(twin))
    assert imported == [first["case_id"]]
    assert on_hold == [
        "line 2: persons: the same members' birth dates and permit date as the household on "
        "line 1; held for review, not imported"
    ]


def test_the_readme_example_of_format_2_is_valid():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split('```json\n{"format": "bosetting.places/2"', 1)[1].split("```", 1)[0]
    text = '{"format": "bosetting.places/2"' + block
    # Wrapped for reading: the two JSON documents, one a line in the file.
    decoder, at, lines = json.JSONDecoder(), 0, []
    while text[at:].strip():
        document, end = decoder.raw_decode(text, at + len(text[at:]) - len(text[at:].lstrip()))
        lines.append(json.dumps(document))
        at = end
    parsed = parse_lines(lines, register())
    assert parsed.rejected == []
    [(_, plan)] = parsed.plans
    assert [(n, y, d.decided) for _, n, y, d in parsed.decisions] == [("3030", 2020, 15)]
    assert plan.grant.registered_at is not None
    assert all(step.registered_at is not None for step in plan.steps)
    assert len(plan.persons) == 2  # the member who joined
    assert [type(s).__name__ for s in plan.steps][-1] == "CorrectSettlementDate"


def test_format_2_refuses_a_step_registered_before_the_one_before_it_naming_it():
    case = {
        "format": "bosetting.case/2",
        "case_id": "reg-000200",
        "case_type": "reception",
        "permit_date": "2020-01-10",
        "registered_at": "2020-01-12T09:00:00+01:00",
        "persons": [{"person_id": "reg-000200-a", "birth_date": "1984-03-01"}],
        "steps": [
            {
                "step": "settlement_interview",
                "on": "2020-02-01",
                "registered_at": "2020-02-03T09:00:00+01:00",
            },
            {
                "step": "competence_mapping",
                "on": "2020-01-20",
                "registered_at": "2020-02-02T09:00:00+01:00",
            },
        ],
    }
    [problem] = problems(json.dumps(case))
    assert problem.startswith("line 1: steps.1.registered_at: may not be before the step")
    case["steps"][1]["registered_at"] = "2020-02-04T09:00:00+01:00"
    case["steps"].append(
        {
            "step": "settlement",
            "on": "2020-05-04",
            "registered_at": "2020-05-01T09:00:00+02:00",
            "person_ids": ["reg-000200-a"],
        }
    )
    [problem] = problems(json.dumps(case))
    assert "steps.2.registered_at: may not be before the day it happened" in problem
    case["steps"][2] |= {
        "registered_at": "2020-05-05T09:00:00+02:00",
        "person_ids": ["someone-else"],
    }
    [problem] = problems(json.dumps(case))
    assert "steps.2: person_id not a member of the household" in problem
    assert "someone-else" not in problem  # the value is not echoed


def test_every_format_2_step_becomes_its_command_with_its_registration_time():
    from typing import get_args

    from schemas.imports import CaseStep

    at = "2020-06-01T09:00:00+02:00"
    person = {"person_id": "reg-000300-b", "birth_date": "1990-01-01"}
    fields = {
        "member_added": {"person": person, "reason": "late_permit"},
        "recommendation": {"municipality_number": "0301", "reason": "competence"},
        "allocation": {"municipality_number": "0301"},
        "decline": {"reason": "no_capacity"},
        "withdrawal": {"reason": "other"},
        "settlement_planned": {"planned_on": "2020-06-20"},
        "entry_permit_extended": {"valid_until": "2020-12-31"},
        "travel_booked": {"arrival_on": "2020-06-30"},
        "arrival": {},
        "settlement": {"person_ids": ["reg-000300-a"]},
        "permit_date_corrected": {"reason": "registration_error"},
        "settlement_date_corrected": {"person_id": "reg-000300-a", "reason": "other"},
        "step_date_corrected": {"corrected": "acceptance", "reason": "other"},
        "exit": {"reason": "moved_abroad"},
    }
    kinds = [m.model_fields["step"].annotation.__args__[0] for m in get_args(get_args(CaseStep)[0])]
    steps = [
        {"step": k, "on": "2020-06-01", "registered_at": at, **fields.get(k, {})} for k in kinds
    ]
    case = {
        "format": "bosetting.case/2",
        "case_id": "reg-000300",
        "case_type": "resettlement",
        "permit_date": "2020-01-10",
        "registered_at": "2020-01-12T09:00:00+01:00",
        "persons": [{"person_id": "reg-000300-a", "birth_date": "1984-03-01"}],
        "steps": steps,
    }
    parsed = parse_lines([json.dumps(case)], register())
    assert parsed.rejected == []
    [(_, plan)] = parsed.plans
    assert len(plan.steps) == len(kinds) == 18
    assert {s.registered_at.isoformat() for s in plan.steps} == {at}
    assert len({type(s) for s in plan.steps}) == 18  # each step its own command


def test_a_council_decision_line_becomes_the_ledgers_command_with_every_number():
    line = ImportedPlaces2.model_validate(
        {
            "format": "bosetting.places/2",
            "registered_at": "2020-01-15T09:30:00+01:00",
            "municipality_number": "0301",
            "year": 2020,
            "decided_on": "2020-01-14",
            "requested": 30,
            "adjusted": 25,
            "decided": 28,
            "requested_unaccompanied_minors": 4,
            "decided_unaccompanied_minors": 3,
        }
    )
    number, year, decision = to_decision(line)
    assert (number, year) == ("0301", 2020)
    assert decision.model_dump(exclude={"command_id"}) == {
        "decided_on": date(2020, 1, 14),
        "requested": 30,
        "adjusted": 25,
        "decided": 28,
        "requested_unaccompanied_minors": 4,
        "decided_unaccompanied_minors": 3,
        "registered_at": line.registered_at,
    }
    assert decision.command_id == "import/places/0301/2020/2020-01-15T08:30:00+00:00"
