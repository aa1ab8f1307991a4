"""Synthetic households for the demo and the tests: a seeded, reproducible mix of case
types and categories, each with the dated steps it will go through.

No real person is in here: ids are pseudonyms, birth dates are drawn at random."""

import random
from datetime import date, timedelta

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    DeclineAllocation,
    GrantPermit,
    PersonRecord,
    PersonSettlement,
    RecordCompetenceMapping,
    RecordExit,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.enums import CaseType, DeclineReason, ExitReason, WithdrawalReason

from .plans import HouseholdPlan

# A handful of real municipality numbers of the 2020 structure (Oslo, Bergen, Trondheim,
# Stavanger, Drammen, Bodø, Tromsø, Kristiansand, Bærum, Ålesund).
MUNICIPALITIES = ("0301", "4601", "5001", "1103", "3005", "1804", "5401", "4204", "3024", "1507")


def _birth(rng: random.Random, on: date, low: int, high: int) -> date:
    """A birth date giving an age between low and high (inclusive) on ``on``."""
    days = rng.randint(low * 365 + 1, high * 365 + 364)
    return on - timedelta(days=days)


def _persons(rng: random.Random, case_id: str, permit: date) -> list[PersonRecord]:
    kind = rng.random()
    ages: list[tuple[int, int]]
    if kind < 0.08:  # unaccompanied minor, 15-16 so they stay minors while waiting
        ages = [(15, 16)]
    elif kind < 0.55:  # family with children
        ages = [(25, 45)] * rng.choice([1, 2, 2]) + [(0, 15)] * rng.randint(1, 4)
    else:  # other adults: single adults and couples
        ages = [(19, 60)] * rng.choice([1, 1, 1, 2])
    return [
        PersonRecord(
            person_id=f"{case_id}-p{i}",
            birth_date=_birth(rng, permit, low, high),
            protected_identity=rng.random() < 0.01,
        )
        for i, (low, high) in enumerate(ages)
    ]


def generate(
    count: int, *, seed: int = 2020, prefix: str = "demo", year: int = 2020
) -> list[HouseholdPlan]:
    """Households with permits from September the year before to October of ``year``,
    waits of one to about fourteen months; one household in seven has an allocation declined
    or withdrawn first, and one in twenty-five leaves the path instead of settling."""
    rng = random.Random(seed)
    first_permit = date(year - 1, 9, 1)
    span = (date(year, 10, 31) - first_permit).days
    plans = []
    for i in range(count):
        case_id = f"{prefix}-{seed}-{i:05d}"
        permit = first_permit + timedelta(days=rng.randint(0, span))
        case_type = rng.choices(list(CaseType), weights=[4, 1, 5])[0]
        persons = _persons(rng, case_id, permit)
        day = permit + timedelta(days=rng.randint(3, 40))
        interview = RecordSettlementInterview(command_id=f"{case_id}/interview", held_on=day)
        mapping = (
            RecordCompetenceMapping(command_id=f"{case_id}/mapping", mapped_on=day)
            if rng.random() < 0.7
            else None
        )
        returned: list[tuple[AllocateToMunicipality, DeclineAllocation | WithdrawAllocation]] = []
        # Places are decided per calendar year and the built-in municipality structure starts
        # in 2020: nothing is allocated before the reference year begins.
        day = max(day, date(year, 1, 2))
        if rng.random() < 1 / 7:
            day += timedelta(days=rng.randint(5, 60))
            first = AllocateToMunicipality(
                command_id=f"{case_id}/allocate-0",
                municipality_number=rng.choice(MUNICIPALITIES),
                allocated_on=day,
            )
            day += timedelta(days=rng.randint(1, 14))
            # Most come back declined by the municipality; some the directorate withdraws.
            answer: DeclineAllocation | WithdrawAllocation = (
                WithdrawAllocation(
                    command_id=f"{case_id}/withdraw-0",
                    withdrawn_on=day,
                    reason=rng.choice(list(WithdrawalReason)),
                )
                if rng.random() < 0.25
                else DeclineAllocation(
                    command_id=f"{case_id}/decline-0",
                    declined_on=day,
                    reason=rng.choice(list(DeclineReason)),
                )
            )
            returned.append((first, answer))
        # A long tail: one household in ten waits half a year more (special needs, no place).
        day += timedelta(
            days=rng.randint(5, 90) + (rng.randint(120, 240) if rng.random() < 0.1 else 0)
        )
        allocation = AllocateToMunicipality(
            command_id=f"{case_id}/allocate",
            municipality_number=rng.choice(MUNICIPALITIES),
            allocated_on=day,
        )
        day += timedelta(days=rng.randint(1, 14))
        acceptance = AcceptAllocation(command_id=f"{case_id}/accept", accepted_on=day)
        day += timedelta(days=rng.randint(7, 100))
        settlement: RegisterSettlement | None = RegisterSettlement(
            command_id=f"{case_id}/settle",
            settlements=[PersonSettlement(person_id=p.person_id, settled_on=day) for p in persons],
        )
        exit_ = None
        if rng.random() < 0.04:
            # A few leave the path after acceptance: they refuse the offer, move abroad, or
            # find a home on their own. Their places go back; they count in no waiting figure.
            settlement = None
            exit_ = RecordExit(
                command_id=f"{case_id}/exit",
                exited_on=day,
                reason=rng.choice(
                    [ExitReason.REFUSED_OFFER, ExitReason.MOVED_ABROAD, ExitReason.SETTLED_ON_OWN]
                ),
            )
        plans.append(
            HouseholdPlan(
                grant=GrantPermit(
                    command_id=f"{case_id}/permit",
                    case_id=case_id,
                    case_type=case_type,
                    permit_date=permit,
                    persons=persons,
                    reception_centre="rc-01" if case_type is CaseType.RECEPTION else None,
                ),
                interview=interview,
                mapping=mapping,
                returned=returned,
                allocation=allocation,
                acceptance=acceptance,
                settlement=settlement,
                exit=exit_,
            )
        )
    return plans
