from datetime import date
from fractions import Fraction

import pytest

from schemas.enums import CaseType, Category, SettlingAuthority
from workers.figures.metrics import (
    TOTAL,
    SettledFact,
    add_months,
    days_to_months,
    settled_within,
    waiting_time_report,
)


def fact(
    permit,
    settled,
    category=Category.OTHER_ADULT,
    protected=False,
    *,
    case_id="case-1",
    case_type=CaseType.RECEPTION,
    settled_by=SettlingAuthority.IMDI,
    municipality="0301",
    centre="rc-01",
):
    return SettledFact(
        category=category,
        protected_identity=protected,
        permit_date=permit,
        settled_on=settled,
        case_id=case_id,
        case_type=case_type,
        settled_by=settled_by,
        municipality_number=municipality,
        reception_centre=centre,
    )


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2020, 1, 15), 6, date(2020, 7, 15)),
        (date(2019, 8, 31), 6, date(2020, 2, 29)),  # clamps to the leap day
        (date(2020, 8, 31), 6, date(2021, 2, 28)),
        (date(2020, 2, 29), 12, date(2021, 2, 28)),
        (date(2020, 3, 31), 3, date(2020, 6, 30)),
        (date(2020, 11, 30), 3, date(2021, 2, 28)),
    ],
)
def test_adding_calendar_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_settled_on_the_six_month_anniversary_counts_as_within_six_months():
    assert settled_within(fact(date(2020, 1, 15), date(2020, 7, 15)), 6)
    assert not settled_within(fact(date(2020, 1, 15), date(2020, 7, 16)), 6)


def test_month_end_permit_is_within_six_months_through_the_end_of_february():
    assert settled_within(fact(date(2019, 8, 31), date(2020, 2, 29)), 6)
    assert not settled_within(fact(date(2019, 8, 31), date(2020, 3, 1)), 6)


def test_months_are_days_over_thirty_point_four_three_seven_five():
    assert days_to_months(Fraction(36525, 1200)) == 1.0
    assert days_to_months(365) == pytest.approx(11.9918, abs=1e-4)


def test_report_counts_each_category_and_total_with_exact_mean_and_median():
    facts = [
        fact(date(2020, 1, 1), date(2020, 3, 1), Category.FAMILY_WITH_CHILDREN),  # 60 days
        fact(date(2020, 1, 1), date(2020, 8, 1), Category.FAMILY_WITH_CHILDREN),  # 213 days
        fact(date(2020, 1, 1), date(2020, 2, 1), Category.UNACCOMPANIED_MINOR),  # 31 days
        fact(date(2019, 1, 1), date(2020, 6, 1)),  # 517 days
    ]
    report = waiting_time_report(facts, date(2020, 1, 1), date(2020, 12, 31))
    families = report.group(Category.FAMILY_WITH_CHILDREN.value)
    assert (families.settled, families.within_3_months, families.within_6_months) == (2, 1, 1)
    assert families.mean_wait_days == Fraction(273, 2)
    total = report.group(TOTAL)
    assert total.settled == 4
    assert total.within_12_months == 3
    assert total.median_wait_days == Fraction(60 + 213, 2)
    assert total.mean_wait_days == Fraction(60 + 213 + 31 + 517, 4)


def test_protected_identity_counts_in_the_total_only():
    facts = [
        fact(date(2020, 1, 1), date(2020, 3, 1), Category.OTHER_ADULT, protected=True),
        fact(date(2020, 1, 1), date(2020, 3, 1), Category.OTHER_ADULT),
    ]
    report = waiting_time_report(facts, date(2020, 1, 1), date(2020, 12, 31))
    assert report.group(Category.OTHER_ADULT.value).settled == 1
    assert report.group(TOTAL).settled == 2


def test_period_bounds_are_inclusive_and_outside_is_excluded():
    facts = [
        fact(date(2019, 6, 1), date(2019, 12, 31)),
        fact(date(2019, 6, 1), date(2020, 1, 1)),
        fact(date(2019, 6, 1), date(2020, 12, 31)),
        fact(date(2019, 6, 1), date(2021, 1, 1)),
    ]
    report = waiting_time_report(facts, date(2020, 1, 1), date(2020, 12, 31))
    assert report.group(TOTAL).settled == 2


def test_empty_group_has_no_mean_or_share():
    report = waiting_time_report([], date(2020, 1, 1), date(2020, 12, 31))
    total = report.group(TOTAL)
    assert total.settled == 0
    assert total.mean_wait_days is None
    assert total.share(6) is None
