"""Synthetic households for the demo and the tests: a seeded, reproducible mixed cohort of
every track — reception centre, private address, resettlement (interviewed or on dossier,
arriving directly or via a reception centre), unaccompanied minors for IMDi and Bufetat —
with declines, withdrawals, exits, members who join late, recommendations and planned dates.

No real person is in here: ids are pseudonyms, birth dates are drawn at random."""

import random
from collections.abc import Callable
from datetime import date, timedelta

from schemas.commands import (
    AcceptAllocation,
    AddHouseholdMember,
    AllocateToMunicipality,
    BookTravel,
    Command,
    DeclineAllocation,
    ExtendEntryPermit,
    GrantPermit,
    PersonRecord,
    PersonSettlement,
    PlanSettlement,
    RecordArrival,
    RecordCompetenceMapping,
    RecordExit,
    RecordRecommendation,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.enums import (
    CaseType,
    DeclineReason,
    ExitReason,
    MemberJoinReason,
    RecommendationReason,
    WithdrawalReason,
)
from workers.services.plans import HouseholdPlan
from workflows.rules import entry_permit_expiry

# A handful of real municipality numbers of the 2020 structure (Oslo, Bergen, Trondheim,
# Stavanger, Drammen, Bodø, Tromsø, Kristiansand, Bærum, Ålesund).
MUNICIPALITIES = ("0301", "4601", "5001", "1103", "3005", "1804", "5401", "4204", "3024", "1507")


def birth_date_between(rng: random.Random, on: date, low: int, high: int) -> date:
    """A birth date giving an age between low and high (inclusive) on ``on``."""
    days = rng.randint(low * 365 + 1, high * 365 + 364)
    return on - timedelta(days=days)


def _persons(rng: random.Random, case_id: str, permit: date) -> list[PersonRecord]:
    kind = rng.random()
    ages: list[tuple[int, int]]
    if kind < 0.056:  # unaccompanied minor, 15-16 so they stay minors while waiting: IMDi
        ages = [(15, 16)]
    elif kind < 0.08:  # unaccompanied minor under 15: Bufetat
        ages = [(10, 13)]
    elif kind < 0.55:  # family with children
        ages = [(25, 45)] * rng.choice([1, 2, 2]) + [(0, 15)] * rng.randint(1, 4)
    else:  # other adults: single adults and couples
        ages = [(19, 60)] * rng.choice([1, 1, 1, 2])
    return [
        PersonRecord(
            person_id=f"{case_id}-p{i}",
            birth_date=birth_date_between(rng, permit, low, high),
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
    return [_household(rng, f"{prefix}-{seed}-{i:05d}", year) for i in range(count)]


def _household(rng: random.Random, case_id: str, year: int) -> HouseholdPlan:
    first_permit = date(year - 1, 9, 1)
    permit = first_permit + timedelta(days=rng.randint(0, (date(year, 10, 31) - first_permit).days))
    case_type = rng.choices(list(CaseType), weights=[4, 1, 5])[0]
    persons = _persons(rng, case_id, permit)
    resettlement = case_type is CaseType.RESETTLEMENT
    dossier = resettlement and rng.random() < 0.3
    steps: list[Command] = []

    def cid(step: str) -> str:
        return f"{case_id}/{step}"

    day = permit + timedelta(days=rng.randint(3, 40))
    if case_type is CaseType.PRIVATE_ADDRESS:
        steps.append(RecordSettlementApplication(command_id=cid("apply"), applied_on=day))
        day += timedelta(days=rng.randint(1, 20))
    if rng.random() < 0.7 and not dossier:
        steps.append(RecordCompetenceMapping(command_id=cid("mapping"), mapped_on=day))
    if not dossier:
        steps.append(RecordSettlementInterview(command_id=cid("interview"), held_on=day))
    members = list(persons)
    adults = [p for p in persons if (permit - p.birth_date).days >= 18 * 365 + 5]
    if adults and len(persons) > 1 and rng.random() < 0.12:
        # A child born while waiting, or a spouse whose permit came later, or one reunified
        # with the household while it is still in reception (§2.2 family rule, §2.5).
        reason = rng.choice(list(MemberJoinReason))
        born = reason is MemberJoinReason.BORN_WHILE_WAITING
        joined = day + timedelta(days=rng.randint(6, 20))
        member = PersonRecord(
            person_id=f"{case_id}-p{len(persons)}",
            birth_date=joined - timedelta(days=5)
            if born
            else birth_date_between(rng, joined, 22, 45),
        )
        steps.append(
            AddHouseholdMember(
                command_id=cid("member"), person=member, permit_date=joined, reason=reason
            )
        )
        members.append(member)
        day = joined
    # Places are decided per calendar year and the built-in municipality structure starts
    # in 2020: nothing is allocated before the reference year begins.
    day = max(day, date(year, 1, 2))
    if rng.random() < 1 / 7:
        day += timedelta(days=rng.randint(5, 60))
        steps.append(
            AllocateToMunicipality(
                command_id=cid("allocate-0"),
                municipality_number=rng.choice(MUNICIPALITIES),
                allocated_on=day,
            )
        )
        day += timedelta(days=rng.randint(1, 14))
        # Most come back declined by the municipality; some the directorate withdraws.
        steps.append(
            WithdrawAllocation(
                command_id=cid("withdraw-0"),
                withdrawn_on=day,
                reason=rng.choice(list(WithdrawalReason)),
            )
            if rng.random() < 0.25
            else DeclineAllocation(
                command_id=cid("decline-0"),
                declined_on=day,
                reason=rng.choice(list(DeclineReason)),
            )
        )
    # A long tail: one household in ten waits half a year more (special needs, no place).
    day += timedelta(days=rng.randint(5, 90) + (rng.randint(120, 240) if rng.random() < 0.1 else 0))
    municipality = rng.choice(MUNICIPALITIES)
    reasons: list[RecommendationReason] = []
    if case_type is CaseType.RECEPTION and rng.random() < 0.15:
        # An integration reception centre's recommendation, which the directorate follows.
        steps.append(
            RecordRecommendation(
                command_id=cid("recommend"),
                municipality_number=municipality,
                recommended_on=day - timedelta(days=rng.randint(1, 5)),
                reason=rng.choice([RecommendationReason.COMPETENCE, RecommendationReason.SERVICES]),
            )
        )
        reasons = [RecommendationReason.RECOMMENDED]
    steps.append(
        AllocateToMunicipality(
            command_id=cid("allocate"),
            municipality_number=municipality,
            allocated_on=day,
            reasons=reasons,
        )
    )
    day += timedelta(days=rng.randint(1, 14))
    steps.append(AcceptAllocation(command_id=cid("accept"), accepted_on=day))
    accepted = day
    day += timedelta(days=rng.randint(14, 100))
    if rng.random() < 0.04:
        # A few leave the path after acceptance: they refuse the offer, move abroad, or
        # find a home on their own. Their places go back; they count in no waiting figure.
        reasons_to_leave = [ExitReason.REFUSED_OFFER, ExitReason.MOVED_ABROAD]
        reasons_to_leave.append(
            ExitReason.WITHDRAWN_BEFORE_DEPARTURE if resettlement else ExitReason.SETTLED_ON_OWN
        )
        steps.append(
            RecordExit(command_id=cid("exit"), exited_on=day, reason=rng.choice(reasons_to_leave))
        )
    elif resettlement:
        steps += _travel_and_arrival(rng, cid, permit, accepted, day, members)
    else:
        if rng.random() < 0.6:
            planned = day - timedelta(days=rng.randint(0, 3))
            steps.append(
                PlanSettlement(
                    command_id=cid("plan"),
                    planned_on=planned,
                    registered_on=min(planned, accepted + timedelta(days=rng.randint(1, 10))),
                )
            )
        steps.append(_settle_all(cid("settle"), members, day))
    return HouseholdPlan(
        grant=GrantPermit(
            command_id=cid("permit"),
            case_id=case_id,
            case_type=case_type,
            permit_date=permit,
            persons=persons,
            reception_centre="rc-01" if case_type is CaseType.RECEPTION else None,
            dossier=dossier,
        ),
        steps=steps,
    )


def _settle_all(command_id: str, members: list[PersonRecord], day: date) -> RegisterSettlement:
    return RegisterSettlement(
        command_id=command_id,
        settlements=[PersonSettlement(person_id=p.person_id, settled_on=day) for p in members],
    )


def _travel_and_arrival(
    rng: random.Random,
    cid: Callable[[str], str],
    permit: date,
    accepted: date,
    arrival: date,
    members: list[PersonRecord],
) -> list[Command]:
    """Travel booked at least two weeks ahead, the entry permit extended if the arrival falls
    after it, then arrival: settlement, or (one in twenty) a reception centre first and a
    second allocation from there (R8m)."""
    steps: list[Command] = []
    booked = max(accepted, arrival - timedelta(days=rng.randint(14, 40)))
    arrival = max(arrival, booked + timedelta(days=14))
    if arrival > entry_permit_expiry(permit):
        steps.append(
            ExtendEntryPermit(
                command_id=cid("extend"),
                decided_on=booked,
                valid_until=arrival + timedelta(days=30),
            )
        )
    steps.append(BookTravel(command_id=cid("travel"), booked_on=booked, arrival_on=arrival))
    placed = rng.random() < 0.05
    steps.append(
        RecordArrival(command_id=cid("arrive"), arrived_on=arrival, placed_in_reception=placed)
    )
    if placed:
        day = arrival + timedelta(days=rng.randint(20, 60))
        steps.append(
            AllocateToMunicipality(
                command_id=cid("allocate-2"),
                municipality_number=rng.choice(MUNICIPALITIES),
                allocated_on=day,
            )
        )
        day += timedelta(days=rng.randint(1, 14))
        steps.append(AcceptAllocation(command_id=cid("accept-2"), accepted_on=day))
        day += timedelta(days=rng.randint(14, 60))
        steps.append(_settle_all(cid("settle"), members, day))
    return steps
