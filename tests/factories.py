"""Small builders for tests."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import uuid4

from schemas.commands import GrantPermit, PersonRecord
from schemas.enums import CaseType
from schemas.events import CaseEvent, PersonSettled


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


def settled_event(
    case_id: str = "case-0001", *, municipality: str = "4601", protected: bool = False
) -> CaseEvent:
    """One PersonSettled of the case's first person, as a workflow records it."""
    return CaseEvent(
        event_id=uuid4(),
        case_id=case_id,
        sequence=7,
        business_date=date(2020, 5, 4),
        recorded_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        data=PersonSettled(
            person_id=f"{case_id}-p0",
            category="family_with_children",
            protected_identity=protected,
            case_type="resettlement",
            permit_date=date(2019, 11, 30),
            municipality_number=municipality,
        ),
    )
