"""Household plans: the steps a household goes through, as commands, and how they are driven
through the workflows. The demo's synthetic cohort and the importer both produce plans; the
demo, the importer and the tests all drive them the same way, through CaseService."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from schemas.commands import (
    AddHouseholdMember,
    AllocateToMunicipality,
    Command,
    GrantPermit,
    PersonRecord,
    RecordArrival,
    RecordExit,
    RegisterSettlement,
)
from schemas.enums import Category
from schemas.places import PlacesLedger, RecordPlacesDecision, reservation_id_for
from workers.platform.fanout import for_each
from workers.services.cases import CaseService
from workers.services.places import PlacesService
from workflows.rules import household_category


@dataclass(frozen=True)
class HouseholdPlan:
    """A household's permit and the commands that follow it, in the order they happen."""

    grant: GrantPermit
    steps: list[Command] = field(default_factory=list)

    @property
    def case_id(self) -> str:
        return self.grant.case_id

    @property
    def persons(self) -> list[PersonRecord]:
        """Every member: those on the permit and those who joined later."""
        added = [s.person for s in self.steps if isinstance(s, AddHouseholdMember)]
        return [*self.grant.persons, *added]

    def permit_date_of(self, person_id: str) -> date:
        for step in self.steps:
            if isinstance(step, AddHouseholdMember) and step.person.person_id == person_id:
                return step.permit_date
        return self.grant.permit_date

    @property
    def settlements(self) -> dict[str, date]:
        """Each settled member's settlement date: registered, or arrival (resettlement)."""
        settled: dict[str, date] = {}
        members = [p.person_id for p in self.grant.persons]
        for step in self.steps:
            if isinstance(step, AddHouseholdMember):
                members.append(step.person.person_id)
            elif isinstance(step, RegisterSettlement):
                settled |= {x.person_id: x.settled_on for x in step.settlements}
            elif isinstance(step, RecordArrival) and not step.placed_in_reception:
                settled |= {m: step.arrived_on for m in members if m not in settled}
        return settled

    @property
    def exit(self) -> RecordExit | None:
        return next((s for s in self.steps if isinstance(s, RecordExit)), None)

    @property
    def allocations(self) -> list[AllocateToMunicipality]:
        """Every allocation the household gets, returned ones first."""
        return [s for s in self.steps if isinstance(s, AllocateToMunicipality)]

    @property
    def event_count(self) -> int:
        """How many events this household's steps record: one each, one per person for a
        settlement, and an arrival's settlements besides."""
        count, members, settled = 1, len(self.grant.persons), 0
        for step in self.steps:
            if isinstance(step, AddHouseholdMember):
                members += 1
            if isinstance(step, RegisterSettlement):
                count += len(step.settlements)
                settled += len(step.settlements)
            elif isinstance(step, RecordArrival) and not step.placed_in_reception:
                count += 1 + members - settled
                settled = members
            else:
                count += 1
        return count


async def drive_household(service: CaseService, plan: HouseholdPlan) -> None:
    await service.grant_permit(plan.grant)
    for step in plan.steps:
        await service.execute(plan.case_id, step)


async def drive(
    service: CaseService,
    plans: list[HouseholdPlan],
    on_done: Callable[[], None] = lambda: None,
    concurrency: int = 24,
) -> None:
    async def one(plan: HouseholdPlan) -> None:
        await drive_household(service, plan)

    await for_each(plans, one, concurrency=concurrency, on_done=on_done)


async def places_recorded(
    places: PlacesService, plans: list[HouseholdPlan], *, within_s: float = 120.0
) -> None:
    """Wait until the ledgers the plans allocated in have written every change in their
    places taken to the event log (they write them behind their updates)."""
    keys = sorted(
        {(a.municipality_number, a.allocated_on.year) for p in plans for a in p.allocations}
    )
    deadline = asyncio.get_running_loop().time() + within_s
    for number, year in keys:
        while (await places.ledger(number, year)).unrecorded:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the places ledger {number}/{year} is still recording")
            await asyncio.sleep(0.05)


async def ensure_places(
    places: PlacesService,
    plans: list[HouseholdPlan],
    *,
    requested_factor: float = 1.0,
    label: str,
) -> list[PlacesLedger]:
    """Make sure each municipality-year the plans allocate to has decided places for the
    reservations they will make, on top of what its ledger already uses and holds.

    Idempotent: the ledger knows the reservations already made, so over the same plans a
    second run decides nothing new. Decisions only ever grow. A returned allocation and the
    one after it both count, so a municipality may get a place more than it ends up using."""
    wanted: dict[tuple[str, int], dict[str, tuple[int, bool]]] = {}
    for plan in plans:
        for allocation in plan.allocations:
            category = household_category(plan.grant.persons, allocation.allocated_on)
            key = (allocation.municipality_number, allocation.allocated_on.year)
            # Every member, also those who join later: a bound on what the case reserves.
            wanted.setdefault(key, {})[reservation_id_for(plan.case_id, allocation.command_id)] = (
                len(plan.persons),
                category is Category.UNACCOMPANIED_MINOR,
            )
    ledgers = []
    for (number, year), reservations in sorted(wanted.items()):
        ledger = await places.ledger(number, year)
        missing = [r for rid, r in reservations.items() if rid not in ledger.reservations]
        need = ledger.used + ledger.held(False) + sum(n for n, minors in missing if not minors)
        need_minors = (
            ledger.used_unaccompanied_minors
            + ledger.held(True)
            + sum(n for n, minors in missing if minors)
        )
        before = ledger.decision
        decided = max(before.decided if before else 0, need)
        decided_minors = max(before.decided_unaccompanied_minors if before else 0, need_minors)
        if before and (before.decided, before.decided_unaccompanied_minors) == (
            decided,
            decided_minors,
        ):
            ledgers.append(ledger)
            continue
        ledgers.append(
            await places.record_decision(
                number,
                year,
                RecordPlacesDecision(
                    command_id=f"{label}-decision-{number}-{year}-{decided}-{decided_minors}",
                    decided_on=date(year - 1, 12, 1),
                    requested=round(decided * requested_factor),
                    decided=decided,
                    requested_unaccompanied_minors=decided_minors,
                    decided_unaccompanied_minors=decided_minors,
                ),
            )
        )
    return ledgers
