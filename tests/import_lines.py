"""Write households as lines of the import format (for the import tests)."""

import json

from schemas.commands import DeclineAllocation
from workers.plans import HouseholdPlan


def as_import_line(plan: HouseholdPlan) -> str:
    g = plan.grant
    allocations = []
    for allocate, answer in plan.returned:
        returned = {
            "municipality_number": allocate.municipality_number,
            "allocated_on": allocate.allocated_on.isoformat(),
        }
        if isinstance(answer, DeclineAllocation):
            returned |= {
                "outcome": "declined",
                "answered_on": answer.declined_on.isoformat(),
                "decline_reason": answer.reason.value,
            }
        else:
            returned |= {
                "outcome": "withdrawn",
                "answered_on": answer.withdrawn_on.isoformat(),
                "withdrawal_reason": answer.reason.value,
            }
        allocations.append(returned)
    if plan.allocation:
        allocations.append(
            {
                "municipality_number": plan.allocation.municipality_number,
                "allocated_on": plan.allocation.allocated_on.isoformat(),
                "outcome": "accepted" if plan.acceptance else "pending",
                "answered_on": plan.acceptance.accepted_on.isoformat() if plan.acceptance else None,
            }
        )
    return json.dumps(
        {
            "format": "bosetting.case/1",
            "case_id": g.case_id,
            "case_type": g.case_type.value,
            "permit_date": g.permit_date.isoformat(),
            "reception_centre": g.reception_centre,
            "persons": [p.model_dump(mode="json") for p in g.persons],
            "competence_mapped_on": plan.mapping.mapped_on.isoformat() if plan.mapping else None,
            "interview_held_on": plan.interview.held_on.isoformat() if plan.interview else None,
            "allocations": allocations,
            "settlements": [s.model_dump(mode="json") for s in plan.settlement.settlements]
            if plan.settlement
            else [],
            "exit": {"exited_on": plan.exit.exited_on.isoformat(), "reason": plan.exit.reason.value}
            if plan.exit
            else None,
        }
    )
