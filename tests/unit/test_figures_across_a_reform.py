"""A period that spans the 2024 reform: a breakdown by place reports in the structure in force
at the end of the period (default), or on each settlement date (BOSETTING_FIGURES_PLACES_ON)."""

from datetime import date

from schemas.enums import CaseType, Category, SettlingAuthority
from workers.allocation.municipalities import register
from workers.figures.metrics import SettledFact
from workers.figures.report import build_report

MUNICIPALITIES = register()


def settled(case_id: str, municipality: str, on: date) -> SettledFact:
    return SettledFact(
        category=Category.OTHER_ADULT,
        protected_identity=False,
        permit_date=date(2023, 5, 1),
        settled_on=on,
        case_id=case_id,
        case_type=CaseType.RECEPTION,
        settled_by=SettlingAuthority.IMDI,
        municipality_number=municipality,
        reception_centre="centre-a",
    )


# Bærum: 3024 in Viken until 2023, 3201 in Akershus from 2024. One household settled before
# the reform, one after; a third allocated before it (under the old number), settled after.
FACTS = [
    settled("before", "3024", date(2023, 12, 20)),
    settled("after", "3201", date(2024, 1, 10)),
    settled("old-number-after", "3024", date(2024, 1, 15)),
]
PERIOD = (date(2023, 7, 1), date(2024, 6, 30))


def groups(by: str, **options: object) -> dict[str, int]:
    report = build_report(
        FACTS,
        *PERIOD,
        by=by,
        geography=MUNICIPALITIES,
        **options,  # type: ignore[arg-type]
    )
    return {g.group: g.settled for g in report.groups}


def test_by_default_a_period_is_reported_in_the_structure_at_its_end() -> None:
    assert groups("municipality") == {"3201": 3, "total": 3}
    assert groups("county") == {"Akershus": 3, "total": 3}


def test_or_each_settlement_in_the_structure_of_its_day() -> None:
    assert groups("municipality", places_on="settlement_date") == {
        "3024": 1,
        "3201": 2,
        "total": 3,
    }
    assert groups("county", places_on="settlement_date") == {
        "Viken": 1,
        "Akershus": 2,
        "total": 3,
    }


def test_a_period_before_the_reform_keeps_its_numbers() -> None:
    report = build_report(
        FACTS[:1],
        date(2023, 1, 1),
        date(2023, 12, 31),
        by="municipality",
        geography=MUNICIPALITIES,
    )
    assert [g.group for g in report.groups] == ["3024", "total"]


def test_a_split_municipality_is_reported_in_the_part_that_kept_its_name() -> None:
    assert MUNICIPALITIES.municipality_on("1507", date(2024, 3, 1)) == "1508"
    assert MUNICIPALITIES.municipality_on("1507", date(2023, 3, 1)) == "1507"
