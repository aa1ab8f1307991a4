"""Household plans: the steps a household goes through, as commands, and how they are driven
through the workflows. The demo's synthetic cohort and the importer both produce plans; the
demo, the importer and the tests all drive them the same way, through CaseService."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    DeclineAllocation,
    GrantPermit,
    RecordCompetenceMapping,
    RecordExit,
    RecordSettlementInterview,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.enums import Category
from schemas.places import PlacesLedger, RecordPlacesDecision, reservation_id_for
from workflows.rules import household_category

from .cases import CaseService
from .fanout import for_each
from .places import PlacesService


@dataclass(frozen=True)
class HouseholdPlan:
    grant: GrantPermit
    interview: RecordSettlementInterview | None
    mapping: RecordCompetenceMapping | None
    returned: list[tuple[AllocateToMunicipality, DeclineAllocation | WithdrawAllocation]] = field(
        default_factory=list
    )
    """Allocations that came back: declined by the municipality or withdrawn."""
    allocation: AllocateToMunicipality | None = None
    acceptance: AcceptAllocation | None = None
    settlement: RegisterSettlement | None = None
    exit: RecordExit | None = None

    @property
    def case_id(self) -> str:
        return self.grant.case_id

    @property
    def event_count(self) -> int:
        """How many events this household's steps record."""
        settled = len(self.settlement.settlements) if self.settlement else 0
        return (
            1
            + (self.interview is not None)
            + (self.mapping is not None)
            + 2 * len(self.returned)
            + (self.allocation is not None)
            + (self.acceptance is not None)
            + settled
            + (self.exit is not None)
        )

    @property
    def allocations(self) -> list[AllocateToMunicipality]:
        """Every allocation the household gets, returned ones first."""
        returned = [allocation for allocation, _ in self.returned]
        return returned + ([self.allocation] if self.allocation else [])


async def drive_household(service: CaseService, plan: HouseholdPlan) -> None:
    case_id = plan.case_id
    await service.grant_permit(plan.grant)
    if plan.mapping is not None:
        await service.record_competence_mapping(case_id, plan.mapping)
    if plan.interview is not None:
        await service.record_settlement_interview(case_id, plan.interview)
    for allocation, answer in plan.returned:
        await service.allocate_to_municipality(case_id, allocation)
        if isinstance(answer, DeclineAllocation):
            await service.decline_allocation(case_id, answer)
        else:
            await service.withdraw_allocation(case_id, answer)
    if plan.allocation is not None:
        await service.allocate_to_municipality(case_id, plan.allocation)
    if plan.acceptance is not None:
        await service.accept_allocation(case_id, plan.acceptance)
    if plan.settlement is not None:
        await service.register_settlement(case_id, plan.settlement)
    if plan.exit is not None:
        await service.record_exit(case_id, plan.exit)


async def drive(
    service: CaseService,
    plans: list[HouseholdPlan],
    on_done: Callable[[], None] = lambda: None,
    concurrency: int = 24,
) -> None:
    async def one(plan: HouseholdPlan) -> None:
        await drive_household(service, plan)

    await for_each(plans, one, concurrency=concurrency, on_done=on_done)


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
            wanted.setdefault(key, {})[reservation_id_for(plan.case_id, allocation.command_id)] = (
                len(plan.grant.persons),
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
