from datetime import date

import pytest

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    CorrectPermitDate,
    CorrectSettlementDate,
    CorrectStepDate,
    DeclineAllocation,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import CaseStage, CaseType, Category
from schemas.errors import OUT_OF_ORDER
from schemas.state import CaseState
from tests.factories import household
from workflows import rules
from workflows.steps import CASE_STEPS


def _state(stage: CaseStage) -> CaseState:
    g = household()
    months, target = rules.settlement_target(g.case_type, g.persons, g.permit_date)
    return CaseState(
        case_id=g.case_id,
        case_type=g.case_type,
        stage=stage,
        permit_date=g.permit_date,
        persons=g.persons,
        target_months=months,
        target_date=target,
    )


def test_age_counts_completed_years():
    assert rules.age_on(date(2002, 6, 15), date(2020, 6, 14)) == 17
    assert rules.age_on(date(2002, 6, 15), date(2020, 6, 15)) == 18


def test_someone_born_on_leap_day_comes_of_age_on_first_of_march():
    assert rules.age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert rules.age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18


def test_minors_alone_are_unaccompanied_minors():
    g = household(births=(date(2004, 1, 1), date(2006, 1, 1)))
    assert rules.household_category(g.persons, date(2020, 6, 1)) is Category.UNACCOMPANIED_MINOR


def test_adult_with_child_is_a_family_with_children():
    g = household(births=(date(1980, 1, 1), date(2015, 1, 1)))
    assert rules.household_category(g.persons, date(2020, 6, 1)) is Category.FAMILY_WITH_CHILDREN


def test_adults_without_children_are_other_adults():
    g = household(births=(date(1980, 1, 1), date(1982, 1, 1)))
    assert rules.household_category(g.persons, date(2020, 6, 1)) is Category.OTHER_ADULT


def test_minor_who_turns_eighteen_before_settlement_is_settled_as_an_adult():
    g = household(births=(date(2002, 5, 1),))
    assert rules.household_category(g.persons, date(2020, 4, 30)) is Category.UNACCOMPANIED_MINOR
    assert rules.household_category(g.persons, date(2020, 5, 1)) is Category.OTHER_ADULT


def test_allocation_before_the_interview_is_out_of_order_and_names_the_stage():
    with pytest.raises(rules.RuleViolation) as caught:
        rules.check_stage(_state(CaseStage.PERMIT_GRANTED), AllocateToMunicipality)
    assert caught.value.reason == OUT_OF_ORDER
    assert "'permit_granted'" in str(caught.value)
    assert "settlement_ready" in str(caught.value)


@pytest.mark.parametrize(
    ("command", "stage"),
    [
        (RecordSettlementInterview, CaseStage.PERMIT_GRANTED),
        (AllocateToMunicipality, CaseStage.SETTLEMENT_READY),
        (AcceptAllocation, CaseStage.ALLOCATED),
        (DeclineAllocation, CaseStage.ALLOCATED),
        (RegisterSettlement, CaseStage.ACCEPTED),
    ],
)
def test_each_step_is_allowed_at_its_stage(command, stage):
    rules.check_stage(_state(stage), command)


def test_once_settled_only_corrections_are_allowed():
    corrections = {CorrectPermitDate, CorrectSettlementDate, CorrectStepDate}
    for command in (s.command for s in CASE_STEPS):
        if command in corrections:
            rules.check_stage(_state(CaseStage.SETTLED), command)
        else:
            with pytest.raises(rules.RuleViolation):
                rules.check_stage(_state(CaseStage.SETTLED), command)


def test_nothing_is_allowed_once_exited():
    for command in (s.command for s in CASE_STEPS):
        with pytest.raises(rules.RuleViolation):
            rules.check_stage(_state(CaseStage.EXITED), command)


def test_a_step_dated_before_the_step_it_follows_is_refused_naming_the_field():
    with pytest.raises(rules.RuleViolation, match="settled_on: may not be before acceptance"):
        rules.check_date_order("settled_on", date(2020, 1, 1), "acceptance", date(2020, 2, 1))


def test_settling_a_stranger_is_refused():
    with pytest.raises(rules.RuleViolation, match="not a member"):
        rules.check_settlements(_state(CaseStage.ACCEPTED), ["someone-else"])


@pytest.mark.parametrize(
    ("case_type", "births", "months"),
    [
        (CaseType.RECEPTION, (date(2004, 1, 1),), 3),  # unaccompanied minor, SP13.3
        (CaseType.RECEPTION, (date(1980, 1, 1), date(2015, 1, 1)), 3),  # family, SP13.4
        (CaseType.RECEPTION, (date(1980, 1, 1),), 6),  # other adult, SP13.2
        (CaseType.PRIVATE_ADDRESS, (date(1980, 1, 1),), 6),
        (CaseType.RESETTLEMENT, (date(1980, 1, 1), date(2015, 1, 1)), 6),  # SP13.1
    ],
)
def test_settlement_target_follows_the_steering_parameters(case_type, births, months):
    g = household(births=births, case_type=case_type, permit=date(2019, 8, 31))
    got_months, target = rules.settlement_target(g.case_type, g.persons, g.permit_date)
    assert got_months == months
    assert target == (date(2019, 11, 30) if months == 3 else date(2020, 2, 29))
