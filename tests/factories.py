"""Small builders for tests."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from schemas.commands import GrantPermit, PersonRecord
from schemas.enums import CaseType


def household(
    case_id: str = "case-0001",
    *,
    permit: date = date(2020, 3, 2),
    births: tuple[date, ...] = (date(1985, 5, 1),),
    case_type: CaseType = CaseType.RECEPTION,
    protected: tuple[bool, ...] = (),
) -> GrantPermit:
    return GrantPermit(
        command_id=f"{case_id}/permit",
        case_id=case_id,
        case_type=case_type,
        permit_date=permit,
        persons=[
            PersonRecord(
                person_id=f"{case_id}-p{i}",
                birth_date=b,
                protected_identity=protected[i] if i < len(protected) else False,
            )
            for i, b in enumerate(births)
        ],
    )


@dataclass(frozen=True)
class Counties:
    """A geography for tests (``workers.figures.slices.Geography``): municipality numbers as
    recorded, each in the county ``county`` names for it."""

    county: Callable[[str], str]

    def municipality_on(self, number: str, day: date) -> str:
        return number

    def county_on(self, number: str, day: date) -> str:
        return self.county(number)
