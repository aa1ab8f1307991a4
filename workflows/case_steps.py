"""What each case command does: the events it records and how it changes the case's state,
one method per update of SettlementCaseWorkflow (the update's name), and settlement with what
follows it (places used, qualification records opened). The workflow checks the command and
applies it once, under its lock (commanding.py); it hands this class what it needs."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import FailureError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import workflows.qualification_rules as qualification_rules
    import workflows.rules as rules
    from schemas.commands import (
        AcceptAllocation,
        AddHouseholdMember,
        AllocateToMunicipality,
        BookTravel,
        Command,
        CorrectPermitDate,
        CorrectSettlementDate,
        CorrectStepDate,
        DeclineAllocation,
        ExtendEntryPermit,
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
    from schemas.enums import CaseStage, CorrectableStep
    from schemas.events import (
        AllocationAccepted,
        AllocationDeclined,
        AllocationWithdrawn,
        CaseExited,
        CompetenceMappingRecorded,
        EntryPermitExtended,
        EventData,
        HouseholdMemberAdded,
        MunicipalityAllocated,
        MunicipalityRecommended,
        PermitDateCorrected,
        PersonSettled,
        ResettlementArrived,
        SettlementApplicationReceived,
        SettlementDateCorrected,
        SettlementInterviewHeld,
        SettlementPlanned,
        StepDateCorrected,
        TravelBooked,
    )
    from schemas.ports import CaseDossier
    from schemas.qualification import QualificationStart, qualification_workflow_id
    from schemas.state import CaseState, Recommendation, SettledPerson
    from workflows.case_deadlines import CaseDeadlines
    from workflows.case_places import CasePlaces
    from workflows.patches import PLACES_LEDGER, QUALIFICATION, REPLY_WINDOW
    from workflows.qualification import QualificationWorkflow

Record = Callable[[Sequence[tuple[date, EventData]]], Awaitable[list[UUID]]]


def dossier_after(state: CaseState, applying: Command | None, through: int) -> CaseDossier:
    """The household's personal details once ``applying`` (the command whose events are being
    recorded) has changed the state: a step records its events before it changes the state,
    and its dossier goes with those events."""
    persons = list(state.persons)
    education, needs = state.education_level, list(state.service_needs)
    close_family = state.close_family_municipality
    match applying:
        case AddHouseholdMember(person=person) if person not in persons:
            persons.append(person)
        case RecordCompetenceMapping(education_level=level) if level is not None:
            education = level
        case RecordSettlementInterview():
            needs = list(applying.service_needs)
            close_family = applying.close_family_municipality
    return CaseDossier(
        through=through,
        persons=persons,
        reception_centre=state.reception_centre,
        dossier=state.dossier,
        education_level=education,
        close_family_municipality=close_family,
        service_needs=needs,
    )


class CaseSteps:
    def __init__(
        self,
        *,
        state: Callable[[], CaseState],
        record: Record,
        places: CasePlaces,
        deadlines: CaseDeadlines,
        municipality: Callable[[], str],
    ) -> None:
        self._state = state
        self._record = record
        self._places = places
        self._deadlines = deadlines
        self._municipality = municipality

    async def record_competence_mapping(self, cmd: RecordCompetenceMapping) -> list[UUID]:
        ids = await self._record([(cmd.mapped_on, CompetenceMappingRecorded())])
        self._state().competence_mapped_on = cmd.mapped_on
        if cmd.education_level is not None:
            self._state().education_level = cmd.education_level
        return ids

    async def record_settlement_interview(self, cmd: RecordSettlementInterview) -> list[UUID]:
        ids = await self._record([(cmd.held_on, SettlementInterviewHeld())])
        s = self._state()
        s.interview_held_on = cmd.held_on
        s.close_family_municipality = cmd.close_family_municipality
        s.service_needs = list(cmd.service_needs)
        s.stage = CaseStage.SETTLEMENT_READY
        return ids

    async def allocate_to_municipality(self, cmd: AllocateToMunicipality) -> list[UUID]:
        if workflow.patched(PLACES_LEDGER):
            await self._places.reserve(cmd)
        event = MunicipalityAllocated(
            municipality_number=cmd.municipality_number,
            reasons=list(cmd.reasons),
            reply_due_on=rules.reply_due(self._state().case_type, cmd.allocated_on),
        )
        ids = await self._record([(cmd.allocated_on, event)])
        s = self._state()
        s.municipality_number = cmd.municipality_number
        s.allocated_on = cmd.allocated_on
        s.stage = CaseStage.ALLOCATED
        s.allocations += 1
        s.reply_overdue = False
        s.reply_due_on = None
        if workflow.patched(REPLY_WINDOW):
            s.reply_due_on = rules.reply_due(s.case_type, cmd.allocated_on)
            self._deadlines.watch_reply()
        return ids

    async def accept_allocation(self, cmd: AcceptAllocation) -> list[UUID]:
        municipality = self._municipality()
        event = AllocationAccepted(municipality_number=municipality)
        ids = await self._record([(cmd.accepted_on, event)])
        self._state().accepted_on = cmd.accepted_on
        self._state().stage = CaseStage.ACCEPTED
        return ids

    async def decline_allocation(self, cmd: DeclineAllocation) -> list[UUID]:
        municipality = self._municipality()
        event = AllocationDeclined(municipality_number=municipality, reason=cmd.reason)
        ids = await self._record([(cmd.declined_on, event)])
        # A decline returns the household to allocation (domain.md, transition A7x).
        await self.return_to_allocation()
        self._state().declines += 1
        return ids

    async def register_settlement(self, cmd: RegisterSettlement) -> list[UUID]:
        return await self.settle(cmd.settlements)

    async def withdraw_allocation(self, cmd: WithdrawAllocation) -> list[UUID]:
        municipality = self._municipality()
        event = AllocationWithdrawn(municipality_number=municipality, reason=cmd.reason)
        ids = await self._record([(cmd.withdrawn_on, event)])
        await self.return_to_allocation()
        self._state().withdrawals += 1
        return ids

    async def record_exit(self, cmd: RecordExit) -> list[UUID]:
        s = self._state()
        event = CaseExited(reason=cmd.reason, unsettled_persons=len(s.persons) - len(s.settled))
        ids = await self._record([(cmd.exited_on, event)])
        await self._places.release()
        s.exit_reason = cmd.reason
        s.stage = CaseStage.EXITED
        return ids

    async def correct_permit_date(self, cmd: CorrectPermitDate) -> list[UUID]:
        s = self._state()
        # The target follows the household as it was on its permit, not later members.
        original = [p for p in s.persons if p.person_id not in s.member_permit_dates]
        months, target = rules.settlement_target(s.case_type, original, cmd.permit_date)
        event = PermitDateCorrected(
            previous_date=s.permit_date,
            reason=cmd.reason,
            target_months=months,
            target_date=target,
        )
        ids = await self._record([(cmd.permit_date, event)])
        s.permit_date = cmd.permit_date
        s.target_months, s.target_date = months, target
        self._deadlines.move_target()
        if s.stage is CaseStage.SETTLED:
            self._deadlines.judge_settlement_target()
        return ids

    async def correct_settlement_date(self, cmd: CorrectSettlementDate) -> list[UUID]:
        s = self._state()
        before = s.settled[cmd.person_id]
        event = SettlementDateCorrected(
            person_id=cmd.person_id, previous_date=before.settled_on, reason=cmd.reason
        )
        ids = await self._record([(cmd.settled_on, event)])
        # The household's category stays what its first settlement made it.
        s.settled[cmd.person_id] = SettledPerson(
            settled_on=cmd.settled_on, category=before.category
        )
        if cmd.person_id in s.qualification_records:
            await self.tell_record(cmd.person_id, cmd.settled_on)
        if s.stage is CaseStage.SETTLED:
            self._deadlines.judge_settlement_target()
        return ids

    async def record_settlement_application(self, cmd: RecordSettlementApplication) -> list[UUID]:
        ids = await self._record([(cmd.applied_on, SettlementApplicationReceived())])
        self._state().applied_on = cmd.applied_on
        return ids

    async def record_recommendation(self, cmd: RecordRecommendation) -> list[UUID]:
        event = MunicipalityRecommended(
            municipality_number=cmd.municipality_number, reason=cmd.reason
        )
        ids = await self._record([(cmd.recommended_on, event)])
        self._state().recommendation = Recommendation(
            municipality_number=cmd.municipality_number,
            reason=cmd.reason,
            recommended_on=cmd.recommended_on,
        )
        return ids

    async def add_household_member(self, cmd: AddHouseholdMember) -> list[UUID]:
        s = self._state()
        # An allocated household holds places: the newcomer needs one too, or the
        # command is refused and nothing is recorded.
        await self._places.reserve_newcomer(cmd.person)
        person = cmd.person
        event = HouseholdMemberAdded(
            person_id=person.person_id,
            protected_identity=person.protected_identity,
            reason=cmd.reason,
        )
        ids = await self._record([(cmd.permit_date, event)])
        s.persons.append(person)
        s.member_permit_dates[person.person_id] = cmd.permit_date
        return ids

    async def plan_settlement(self, cmd: PlanSettlement) -> list[UUID]:
        event = SettlementPlanned(
            municipality_number=self._municipality(), planned_on=cmd.planned_on
        )
        ids = await self._record([(cmd.registered_on, event)])
        self._state().planned_settlement_on = cmd.planned_on
        self._state().planned_date_passed = False
        return ids

    async def book_travel(self, cmd: BookTravel) -> list[UUID]:
        ids = await self._record([(cmd.booked_on, TravelBooked(arrival_on=cmd.arrival_on))])
        self._state().travel_arrival_on = cmd.arrival_on
        return ids

    async def record_arrival(self, cmd: RecordArrival) -> list[UUID]:
        """Arrival in the municipality is settlement (R8); placement in a reception centre
        first (R8m) returns the household to allocation, its places released."""
        s = self._state()
        arrived = ResettlementArrived(placed_in_reception=cmd.placed_in_reception)
        if cmd.placed_in_reception:
            ids = await self._record([(cmd.arrived_on, arrived)])
            await self.return_to_allocation()
            s.placed_in_reception = True
        else:
            everyone = [
                PersonSettlement(person_id=p.person_id, settled_on=cmd.arrived_on)
                for p in s.unsettled()
            ]
            ids = await self.settle(everyone, before=[(cmd.arrived_on, arrived)])
        s.arrived_on = cmd.arrived_on
        return ids

    async def extend_entry_permit(self, cmd: ExtendEntryPermit) -> list[UUID]:
        s = self._state()
        previous = s.entry_permit_valid_until or rules.entry_permit_expiry(s.permit_date)
        event = EntryPermitExtended(previous_valid_until=previous, valid_until=cmd.valid_until)
        ids = await self._record([(cmd.decided_on, event)])
        s.entry_permit_valid_until = cmd.valid_until
        s.entry_permit_lapsed = False
        return ids

    async def correct_step_date(self, cmd: CorrectStepDate) -> list[UUID]:
        s = self._state()
        field = rules.STEP_FIELDS[cmd.step]
        previous: date = getattr(s, field)
        event = StepDateCorrected(step=cmd.step, previous_date=previous, reason=cmd.reason)
        ids = await self._record([(cmd.on, event)])
        setattr(s, field, cmd.on)
        if cmd.step is CorrectableStep.ALLOCATION and s.reply_due_on is not None:
            # The reply window moves with the allocation it belongs to.
            s.reply_due_on = rules.reply_due(s.case_type, cmd.on)
            if s.stage is CaseStage.ALLOCATED and s.reply_due_on is not None:
                self._deadlines.rewatch_reply()
        return ids

    async def settle(
        self,
        settlements: Sequence[PersonSettlement],
        before: Sequence[tuple[date, EventData]] = (),
    ) -> list[UUID]:
        """Record settlement dates, and the events that lead to them, in one write; then use
        the places. Each PersonSettled carries the person's own permit date."""
        state = self._state()
        municipality = self._municipality()
        # The household's category is fixed by its first settlement date.
        category = state.category or rules.household_category(
            state.persons, min(x.settled_on for x in settlements)
        )
        persons = {p.person_id: p for p in state.persons}
        ordered = sorted(settlements, key=lambda x: (x.settled_on, x.person_id))
        ids = await self._record(
            [
                *before,
                *(
                    (
                        x.settled_on,
                        PersonSettled(
                            person_id=x.person_id,
                            category=category,
                            protected_identity=persons[x.person_id].protected_identity,
                            household_protected=any(
                                p.protected_identity
                                for p in state.persons
                                if p.person_id != x.person_id
                            ),
                            case_type=state.case_type,
                            permit_date=state.permit_date_of(x.person_id),
                            municipality_number=municipality,
                            settled_by=state.settled_by,
                            reception_centre=state.reception_centre,
                        ),
                    )
                    for x in ordered
                ),
            ]
        )
        state.category = category
        for x in ordered:
            state.settled[x.person_id] = SettledPerson(settled_on=x.settled_on, category=category)
        await self._places.use(len(state.settled))
        if workflow.patched(QUALIFICATION):
            await self.open_qualification_records(ordered, municipality)
        if len(state.settled) == len(state.persons):
            state.stage = CaseStage.SETTLED
            self._deadlines.judge_settlement_target()
        return ids

    async def open_qualification_records(
        self, settlements: Sequence[PersonSettlement], municipality: str
    ) -> None:
        """A child workflow per newly settled adult, for their introduction programme and
        Norwegian training; it outlives the case (parent close policy: abandon). None for a
        settlement so old that every deadline of the record is past (an import)."""
        s = self._state()
        persons = {p.person_id: p for p in s.persons}
        today = workflow.now().date()
        for x in settlements:
            person = persons[x.person_id]
            if rules.age_on(person.birth_date, x.settled_on) < rules.ADULT_AGE:
                continue
            start = QualificationStart(
                case_id=s.case_id,
                person_id=x.person_id,
                birth_date=person.birth_date,
                permit_date=s.permit_date_of(x.person_id),
                settled_on=x.settled_on,
                municipality_number=municipality,
                case_type=s.case_type,
                education_level=s.education_level,
                protected_identity=person.protected_identity,
                household_protected=any(
                    p.protected_identity for p in s.persons if p.person_id != x.person_id
                ),
            )
            if not qualification_rules.is_live(start, today):
                continue
            try:
                await workflow.start_child_workflow(
                    QualificationWorkflow.run,
                    args=[start, None],
                    id=qualification_workflow_id(x.person_id),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
                s.qualification_records.append(x.person_id)
            except WorkflowAlreadyStartedError:
                # The person has a record already (settled before in another case): the
                # settlement stands; the existing record goes on.
                workflow.logger.warning("qualification record exists", extra={"case": s.case_id})

    async def tell_record(self, person_id: str, settled_on: date) -> None:
        """Move the deadlines of the person's qualification record with their settlement."""
        record = workflow.get_external_workflow_handle(qualification_workflow_id(person_id))
        try:
            await record.signal(QualificationWorkflow.settlement_date_corrected, settled_on)
        except FailureError:
            # The record has concluded: its deadlines are behind it.
            workflow.logger.warning(
                "qualification record closed", extra={"case": self._state().case_id}
            )

    async def return_to_allocation(self) -> None:
        """After a decline or a withdrawal: places released, back in the allocation pool."""
        await self._places.release()
        s = self._state()
        s.municipality_number = None
        s.allocated_on = s.accepted_on = None
        s.reservation_id = s.reservation_year = None
        s.planned_settlement_on = s.travel_arrival_on = None
        s.planned_date_passed = False
        s.stage = CaseStage.SETTLEMENT_READY
