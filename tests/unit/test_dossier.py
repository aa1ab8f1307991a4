"""The dossier that goes with a step's events is the household after the step: a step records
its events before it changes the case's state, so the dossier applies the command itself."""

from datetime import date

from schemas.commands import (
    AddHouseholdMember,
    PersonRecord,
    RecordCompetenceMapping,
    RecordSettlementInterview,
)
from schemas.enums import EducationLevel, MemberJoinReason, ServiceNeed
from tests.factories import household
from workflows.case_steps import dossier_after
from workflows.settlement_case import _opened_case


def test_the_dossier_carries_what_the_step_being_recorded_changes():
    state = _opened_case(household("case-d", births=(date(1980, 1, 1),)))
    newcomer = PersonRecord(person_id="case-d-late", birth_date=date(2020, 1, 1))
    joined = AddHouseholdMember(
        command_id="m",
        person=newcomer,
        permit_date=date(2020, 3, 1),
        reason=MemberJoinReason.LATE_PERMIT,
    )
    assert dossier_after(state, joined, 2).persons[-1] == newcomer
    mapped = RecordCompetenceMapping(
        command_id="c", mapped_on=date(2020, 3, 2), education_level=EducationLevel.UPPER_SECONDARY
    )
    assert dossier_after(state, mapped, 3).education_level is EducationLevel.UPPER_SECONDARY
    interview = RecordSettlementInterview(
        command_id="i",
        held_on=date(2020, 3, 3),
        service_needs=[ServiceNeed.LARGE_DWELLING],
        close_family_municipality="0301",
    )
    after = dossier_after(state, interview, 4)
    assert (after.service_needs, after.close_family_municipality, after.through) == (
        [ServiceNeed.LARGE_DWELLING],
        "0301",
        4,
    )
    assert dossier_after(state, None, 5).persons == state.persons  # a deadline's event
