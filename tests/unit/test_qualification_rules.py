"""Rights and deadlines of the qualification track, by the rules in force on the permit date."""

from datetime import date

import pytest

from schemas.enums import CaseType, EducationLevel
from schemas.qualification import NorwegianRight, ProgrammeRight, QualificationStart
from workflows.qualification_rules import NoRulesFor, assess, is_live, rules_for


def start(born: date, permit: date, settled: date, **kw) -> QualificationStart:
    return QualificationStart(
        case_id="case-q1",
        person_id="case-q1-p0",
        birth_date=born,
        permit_date=permit,
        settled_on=settled,
        municipality_number="0301",
        case_type=kw.pop("case_type", CaseType.RECEPTION),
        **kw,
    )


@pytest.mark.parametrize(
    ("permit", "rules"),
    [
        (date(2020, 12, 31), "introduction_act"),
        (date(2021, 1, 1), "integration_act_2021"),
        (date(2025, 12, 31), "integration_act_2021"),
        (date(2026, 1, 1), "integration_act_2026"),
    ],
)
def test_the_rules_follow_the_permit_date(permit, rules):
    assert rules_for(permit).name == rules


def test_no_rules_before_the_introduction_act():
    with pytest.raises(NoRulesFor, match="permit_date"):
        rules_for(date(2003, 1, 1))


def test_a_58_year_old_is_in_the_programme_target_group_only_from_2026():
    born = date(1966, 6, 1)
    before = assess(start(born, date(2025, 3, 1), date(2025, 5, 1)))
    after = assess(start(date(1967, 6, 1), date(2026, 3, 1), date(2026, 5, 1)))
    assert before.programme_right is ProgrammeRight.MAY_BE_OFFERED
    assert after.programme_right is ProgrammeRight.RIGHT_AND_OBLIGATION


def test_starts_are_due_three_months_after_settlement():
    rights = assess(start(date(1990, 1, 1), date(2021, 2, 1), date(2021, 5, 31)))
    assert rights.programme_start_due == date(2021, 8, 31)
    assert rights.norwegian_start_due == date(2021, 8, 31)


@pytest.mark.parametrize(
    ("permit", "education", "due"),
    [
        # Introduction Act: three years, whatever the education.
        (date(2020, 3, 2), EducationLevel.HIGHER, date(2023, 3, 2)),
        # Integration Act: 18 months with upper-secondary education, otherwise three years.
        (date(2021, 3, 2), EducationLevel.UPPER_SECONDARY, date(2022, 9, 2)),
        (date(2021, 3, 2), EducationLevel.PRIMARY, date(2024, 3, 2)),
        (date(2021, 3, 2), None, date(2024, 3, 2)),
    ],
)
def test_norwegian_must_be_completed_within_18_months_or_3_years(permit, education, due):
    rights = assess(start(date(1990, 1, 1), permit, date(2021, 6, 1), education_level=education))
    assert rights.norwegian_completion_due == due


def test_a_resettlement_refugees_right_starts_on_arrival():
    rights = assess(
        start(
            date(1990, 1, 1),
            date(2021, 3, 2),
            date(2021, 7, 1),
            case_type=CaseType.RESETTLEMENT,
        )
    )
    assert rights.norwegian_completion_due == date(2024, 7, 1)


def test_norwegian_rights_by_age_under_each_act():
    intro_60 = assess(start(date(1960, 1, 1), date(2020, 3, 2), date(2020, 6, 1)))
    assert intro_60.norwegian_right is NorwegianRight.OBLIGATION_ONLY
    integration_60 = assess(start(date(1961, 1, 1), date(2021, 3, 2), date(2021, 6, 1)))
    assert integration_60.norwegian_right is NorwegianRight.RIGHT_AND_OBLIGATION
    integration_70 = assess(start(date(1950, 1, 1), date(2021, 3, 2), date(2021, 6, 1)))
    assert integration_70.norwegian_right is NorwegianRight.NONE
    assert integration_70.norwegian_start_due is None


def test_a_record_is_live_while_a_deadline_is_ahead():
    s = start(date(1990, 1, 1), date(2020, 3, 2), date(2020, 6, 1))
    assert is_live(s, date(2023, 3, 2))
    assert not is_live(s, date(2023, 3, 3))
