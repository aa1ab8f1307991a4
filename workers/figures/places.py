"""The places of a year as the read model knows them, now or as of any past moment: what
IMDi requested and adjusted, what each council decided and what is used and held (the places
streams' events), against the persons settled in the municipality that year (the figures'
settled persons).

Places used and held are the ledger's (reserved by the year of allocation) as a reader
without clearance sees them; settled persons are counted as the waiting-time figures count
them. Either way a person with a protected identity, or in a household with one, is in no
municipality's count, for every reader (otherwise the difference would say where they live).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.enums import Category
from workers.figures.slices import AS_RECORDED, Geography
from workers.projection.store import (
    PlacesTakenChange,
    PlacesVersion,
    SettledPersonVersion,
    known_at,
)


@dataclass(frozen=True)
class YearPlaces:
    """One municipality's places in a year, or a county's (the sum of its municipalities)."""

    key: str
    requested: int
    adjusted: int | None
    decided: int
    decided_unaccompanied_minors: int
    used: int
    held: int
    settled: int
    settled_unaccompanied_minors: int

    @property
    def left(self) -> int:
        """Decided places neither used nor held (the ledger's rule)."""
        return self.decided - self.used - self.held

    @property
    def unfilled(self) -> int:
        """Decided places not yet filled by a settlement (negative: more settled than decided)."""
        return self.decided - self.settled

    def json(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "adjusted": self.adjusted,
            "decided": self.decided,
            "decided_unaccompanied_minors": self.decided_unaccompanied_minors,
            "used": self.used,
            "reserved": self.held,
            "left": self.left,
            "settled": self.settled,
            "settled_unaccompanied_minors": self.settled_unaccompanied_minors,
            "unfilled": self.unfilled,
        }


async def places_of_year(
    sessions: async_sessionmaker[AsyncSession],
    year: int,
    *,
    as_of: datetime | None = None,
    geography: Geography = AS_RECORDED,
    by_county: bool = False,
) -> list[YearPlaces]:
    """Per municipality (per county with ``by_county``), in the structure in force at the end
    of the year, sorted: decided as the places events had it at ``as_of`` (now without), and
    persons settled in the year as known then."""
    year_end = date(year, 12, 31)
    p, s, t = PlacesVersion, SettledPersonVersion, PlacesTakenChange
    async with sessions() as session:
        decisions = (
            await session.scalars(select(p).where(p.year == year, known_at(p, as_of)))
        ).all()
        recorded = t.year == year
        if as_of is not None:
            recorded &= t.recorded_at <= as_of
        taken = (
            await session.execute(
                select(t.municipality_number, func.sum(t.used), func.sum(t.held))
                .where(recorded)
                .group_by(t.municipality_number)
            )
        ).all()
        settled = (
            await session.execute(
                select(s.municipality_number, s.category, func.count())
                .where(
                    s.settled_on.between(date(year, 1, 1), year_end),
                    known_at(s, as_of),
                    s.protected_identity.is_(False),
                    s.household_protected.is_(False),
                )
                .group_by(s.municipality_number, s.category)
            )
        ).all()

    def key(number: str) -> str:
        current = geography.municipality_on(number, year_end)
        return geography.county_on(current, year_end) if by_county else current

    totals: dict[str, Counter[str]] = {}
    adjusted: dict[str, int | None] = {}
    for d in decisions:
        k = key(d.municipality_number)
        counts = totals.setdefault(k, Counter())
        counts["requested"] += d.requested or 0
        counts["decided"] += d.decided or 0
        counts["decided_um"] += d.decided_unaccompanied_minors or 0
        if d.adjusted is not None:
            adjusted[k] = (adjusted.get(k) or 0) + d.adjusted
    for number, used, held in taken:
        counts = totals.setdefault(key(number), Counter())
        counts["used"] += int(used or 0)
        counts["held"] += int(held or 0)
    for number, category, count in settled:
        counts = totals.setdefault(key(number), Counter())
        minors = category == Category.UNACCOMPANIED_MINOR.value
        counts["settled_um" if minors else "settled"] += count
    return [
        YearPlaces(
            key=k,
            requested=c["requested"],
            adjusted=adjusted.get(k),
            decided=c["decided"],
            decided_unaccompanied_minors=c["decided_um"],
            used=c["used"],
            held=c["held"],
            settled=c["settled"],
            settled_unaccompanied_minors=c["settled_um"],
        )
        for k, c in sorted(totals.items())
    ]
