"""Write households as lines of the import format (for the import tests)."""

import json

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    DeclineAllocation,
    RecordCompetenceMapping,
    RecordExit,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from workers.services.plans import HouseholdPlan

IMPORTABLE = (
    RecordSettlementApplication,
    RecordCompetenceMapping,
    RecordSettlementInterview,
    AllocateToMunicipality,
    AcceptAllocation,
    DeclineAllocation,
    WithdrawAllocation,
    RegisterSettlement,
    RecordExit,
)
"""The steps format v1 can carry."""


def importable(plan: HouseholdPlan) -> bool:
    return all(isinstance(step, IMPORTABLE) for step in plan.steps)


def as_import_line(plan: HouseholdPlan) -> str:
    assert importable(plan), f"{plan.case_id} has steps format v1 cannot carry"
    g = plan.grant
    line: dict[str, object] = {
        "format": "bosetting.case/1",
        "case_id": g.case_id,
        "case_type": g.case_type.value,
        "permit_date": g.permit_date.isoformat(),
        "reception_centre": g.reception_centre,
        "persons": [p.model_dump(mode="json") for p in g.persons],
    }
    allocations: list[dict[str, object]] = []
    for step in plan.steps:
        match step:
            case RecordSettlementApplication(applied_on=d):
                line["applied_on"] = d.isoformat()
            case RecordCompetenceMapping(mapped_on=d):
                line["competence_mapped_on"] = d.isoformat()
            case RecordSettlementInterview(held_on=d):
                line["interview_held_on"] = d.isoformat()
            case AllocateToMunicipality():
                allocations.append(
                    {
                        "municipality_number": step.municipality_number,
                        "allocated_on": step.allocated_on.isoformat(),
                        "outcome": "pending",
                    }
                )
            case AcceptAllocation(accepted_on=d):
                allocations[-1] |= {"outcome": "accepted", "answered_on": d.isoformat()}
            case DeclineAllocation(declined_on=d, reason=r):
                allocations[-1] |= {
                    "outcome": "declined",
                    "answered_on": d.isoformat(),
                    "decline_reason": r.value,
                }
            case WithdrawAllocation(withdrawn_on=d, reason=r):
                allocations[-1] |= {
                    "outcome": "withdrawn",
                    "answered_on": d.isoformat(),
                    "withdrawal_reason": r.value,
                }
            case RegisterSettlement(settlements=settlements):
                line["settlements"] = [s.model_dump(mode="json") for s in settlements]
            case RecordExit(exited_on=d, reason=r):
                line["exit"] = {"exited_on": d.isoformat(), "reason": r.value}
    line["allocations"] = allocations
    return json.dumps(line)
