"""SettlementCaseWorkflow: one durable entity workflow per household case.

Temporal history is the write model of a live case. Every command is an update whose
validator refuses an out-of-order step before anything is written; the handler records the
step's events through an activity (the SQL event log, from which they are published to
Kafka) and only then changes the state, so a failed write changes nothing.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import (
    ApplicationError,
    FailureError,
    WorkflowAlreadyStartedError,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
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
        GrantPermit,
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
        CaseStage,
        CorrectableStep,
    )
    from schemas.events import (
        AllocationAccepted,
        AllocationDeclined,
        AllocationWithdrawn,
        CaseExited,
        CompetenceMappingRecorded,
        EntryPermitExtended,
        EventData,
        EventPerson,
        HouseholdMemberAdded,
        MunicipalityAllocated,
        MunicipalityRecommended,
        PermitDateCorrected,
        PersonSettled,
        ResettlementArrived,
        ResidencePermitGranted,
        SettlementApplicationReceived,
        SettlementDateCorrected,
        SettlementInterviewHeld,
        SettlementPlanned,
        StepDateCorrected,
        TravelBooked,
    )
    from schemas.qualification import QualificationStart, qualification_workflow_id
    from schemas.state import (
        CarriedCase,
        CaseState,
        CommandResult,
        Recommendation,
        SettledPerson,
    )
    from workflows import qualification_rules, rules
    from workflows import search_attributes as sa
    from workflows.case_deadlines import CaseDeadlines
    from workflows.case_places import CasePlaces
    from workflows.commanding import Commands
    from workflows.patches import (
        CONTINUE_AS_NEW,
        CORRECTION_WINDOW,
        PLACES_LEDGER,
        PROTECTED_WHEREABOUTS,
        QUALIFICATION,
        REPLY_WINDOW,
        SETTLEMENT_TARGET_TIMERS,
        STEP_CLOCK,
        TRACKS,
    )
    from workflows.qualification import QualificationWorkflow
    from workflows.recording import record_events

CORRECTION_WINDOW_LENGTH = timedelta(days=92)
"""How long a settled case stays open for late registrations and corrections: NIR allows
two months of late registration (PUB-26); three months leaves room to correct."""


def _reject(violation: rules.RuleViolation, state: CaseState) -> ApplicationError:
    return ApplicationError(
        str(violation),
        {"stage": state.stage.value},
        type=violation.reason,
        non_retryable=True,
    )


def _opened_case(command: GrantPermit) -> CaseState:
    target_months, target_date = rules.settlement_target(
        command.case_type, command.persons, command.permit_date
    )
    return CaseState(
        case_id=command.case_id,
        case_type=command.case_type,
        stage=CaseStage.PERMIT_GRANTED,
        permit_date=command.permit_date,
        persons=list(command.persons),
        reception_centre=command.reception_centre,
        dossier=command.dossier,
        settled_by=rules.settling_authority(command.persons, command.permit_date),
        target_months=target_months,
        target_date=target_date,
    )


@workflow.defn
class SettlementCaseWorkflow:
    @workflow.init
    def __init__(self, start: GrantPermit | CarriedCase) -> None:
        self._compact_requested = False
        # Handlers await activities; one at a time keeps event sequence and state in step.
        self._lock = asyncio.Lock()
        self._traceparent: str | None = None
        """The trace of the command being applied, if it came with one."""
        if isinstance(start, CarriedCase):
            self._state = start.state
            self._opened = True
        else:
            self._state = _opened_case(start)
            self._opened = False
        self._commands = Commands[CommandResult](
            applied=lambda: self._state.applied_commands,
            check=self._check,
            refuse=lambda violation: _reject(violation, self._state),
            opened=lambda: self._opened,
            lock=self._lock,
        )
        self._places = CasePlaces(lambda: self._state)
        self._deadlines = CaseDeadlines(
            state=lambda: self._state,
            lock=self._lock,
            record=self._record,
            closed=self._closed,
            show=self._upsert_search_attributes,
            municipality=self._allocated_municipality,
            target_epoch=start.target_epoch if isinstance(start, CarriedCase) else 0,
        )

    @workflow.run
    async def run(self, start: GrantPermit | CarriedCase) -> CaseState:
        """Opened by the permit (GrantPermit), or resumed after continue-as-new."""
        if isinstance(start, CarriedCase):
            return await self._resume()
        command = start
        if workflow.patched(TRACKS):
            self._deadlines.set_track_deadlines()
            self._deadlines.start_track_deadlines()
        async with self._lock:
            persons = [
                EventPerson(person_id=p.person_id, protected_identity=p.protected_identity)
                for p in command.persons
            ]
            granted = ResidencePermitGranted(case_type=command.case_type, persons=persons)
            self._traceparent = command.traceparent
            event_ids = await self._record([(command.permit_date, granted)])
            self._traceparent = None
            self._state.applied_commands[command.command_id] = self._result(event_ids)
            self._opened = True
        if workflow.patched(SETTLEMENT_TARGET_TIMERS):
            if workflow.patched(CONTINUE_AS_NEW):
                return await self._live()
            await self._deadlines.watch_settlement_target()
        await workflow.wait_condition(lambda: self._closed() and workflow.all_handlers_finished())
        if self._state.stage is CaseStage.SETTLED and workflow.patched(CORRECTION_WINDOW):
            await workflow.sleep(CORRECTION_WINDOW_LENGTH)
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _live(self) -> CaseState:
        """The case's life from its permit (or its last continue-as-new) to its close: the
        deadline watches run beside the commands. When the history grows long, or operations
        ask (the ``compact`` signal), the case continues as new with its state, at a moment
        when no command or deadline is half-way."""
        target = asyncio.create_task(self._deadlines.watch_settlement_target())
        await workflow.wait_condition(
            lambda: (
                (self._closed() or self._continue_as_new_due())
                and workflow.all_handlers_finished()
                and not self._lock.locked()
            )
        )
        if not self._closed():
            for task in [target, *self._deadlines.tasks()]:
                task.cancel()
            workflow.continue_as_new(
                CarriedCase(state=self._state, target_epoch=self._deadlines.target_epoch)
            )
        await target
        if self._state.stage is CaseStage.SETTLED:
            await workflow.sleep(CORRECTION_WINDOW_LENGTH)
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    async def _resume(self) -> CaseState:
        """A new run after continue-as-new: the same watches over the carried state. A
        deadline that passed in an earlier run fired there, and raises nothing again."""
        self._upsert_search_attributes()
        self._deadlines.start_track_deadlines()
        s = self._state
        if s.stage is CaseStage.ALLOCATED and s.reply_due_on is not None and not s.reply_overdue:
            self._deadlines.watch_reply()
        return await self._live()

    def _continue_as_new_due(self) -> bool:
        return self._compact_requested or workflow.info().is_continue_as_new_suggested()

    @workflow.signal
    def compact(self) -> None:
        """Operations: continue as new at the next quiet moment. Sheds the history, and with
        it the patch markers of old versions, so that old patch branches can be removed."""
        self._compact_requested = True

    @workflow.query
    def state(self) -> CaseState:
        return self._state

    # -- commands: each an update with a validator --------------------------------------

    @workflow.update
    async def record_competence_mapping(self, cmd: RecordCompetenceMapping) -> CommandResult:
        async def apply() -> list[UUID]:
            ids = await self._record([(cmd.mapped_on, CompetenceMappingRecorded())])
            self._state.competence_mapped_on = cmd.mapped_on
            if cmd.education_level is not None:
                self._state.education_level = cmd.education_level
            return ids

        return await self._handle(cmd, apply)

    @record_competence_mapping.validator
    def _validate_competence_mapping(self, cmd: RecordCompetenceMapping) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_settlement_interview(self, cmd: RecordSettlementInterview) -> CommandResult:
        async def apply() -> list[UUID]:
            ids = await self._record([(cmd.held_on, SettlementInterviewHeld())])
            s = self._state
            s.interview_held_on = cmd.held_on
            s.close_family_municipality = cmd.close_family_municipality
            s.service_needs = list(cmd.service_needs)
            s.stage = CaseStage.SETTLEMENT_READY
            return ids

        return await self._handle(cmd, apply)

    @record_settlement_interview.validator
    def _validate_settlement_interview(self, cmd: RecordSettlementInterview) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def allocate_to_municipality(self, cmd: AllocateToMunicipality) -> CommandResult:
        async def apply() -> list[UUID]:
            if workflow.patched(PLACES_LEDGER):
                await self._places.reserve(cmd)
            event = MunicipalityAllocated(
                municipality_number=cmd.municipality_number, reasons=list(cmd.reasons)
            )
            ids = await self._record([(cmd.allocated_on, event)])
            s = self._state
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

        return await self._handle(cmd, apply)

    @allocate_to_municipality.validator
    def _validate_allocation(self, cmd: AllocateToMunicipality) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def accept_allocation(self, cmd: AcceptAllocation) -> CommandResult:
        async def apply() -> list[UUID]:
            municipality = self._allocated_municipality()
            event = AllocationAccepted(municipality_number=municipality)
            ids = await self._record([(cmd.accepted_on, event)])
            self._state.accepted_on = cmd.accepted_on
            self._state.stage = CaseStage.ACCEPTED
            return ids

        return await self._handle(cmd, apply)

    @accept_allocation.validator
    def _validate_accept(self, cmd: AcceptAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def decline_allocation(self, cmd: DeclineAllocation) -> CommandResult:
        async def apply() -> list[UUID]:
            municipality = self._allocated_municipality()
            event = AllocationDeclined(municipality_number=municipality, reason=cmd.reason)
            ids = await self._record([(cmd.declined_on, event)])
            # A decline returns the household to allocation (domain.md, transition A7x).
            await self._return_to_allocation()
            self._state.declines += 1
            return ids

        return await self._handle(cmd, apply)

    @decline_allocation.validator
    def _validate_decline(self, cmd: DeclineAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def register_settlement(self, cmd: RegisterSettlement) -> CommandResult:
        async def apply() -> list[UUID]:
            return await self._settle(cmd.settlements)

        return await self._handle(cmd, apply)

    @register_settlement.validator
    def _validate_settlement(self, cmd: RegisterSettlement) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def withdraw_allocation(self, cmd: WithdrawAllocation) -> CommandResult:
        async def apply() -> list[UUID]:
            municipality = self._allocated_municipality()
            event = AllocationWithdrawn(municipality_number=municipality, reason=cmd.reason)
            ids = await self._record([(cmd.withdrawn_on, event)])
            await self._return_to_allocation()
            self._state.withdrawals += 1
            return ids

        return await self._handle(cmd, apply)

    @withdraw_allocation.validator
    def _validate_withdrawal(self, cmd: WithdrawAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_exit(self, cmd: RecordExit) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
            event = CaseExited(reason=cmd.reason, unsettled_persons=len(s.persons) - len(s.settled))
            ids = await self._record([(cmd.exited_on, event)])
            await self._places.release()
            s.exit_reason = cmd.reason
            s.stage = CaseStage.EXITED
            return ids

        return await self._handle(cmd, apply)

    @record_exit.validator
    def _validate_exit(self, cmd: RecordExit) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_permit_date(self, cmd: CorrectPermitDate) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
            event = PermitDateCorrected(previous_date=s.permit_date, reason=cmd.reason)
            ids = await self._record([(cmd.permit_date, event)])
            s.permit_date = cmd.permit_date
            # The target follows the household as it was on its permit, not later members.
            original = [p for p in s.persons if p.person_id not in s.member_permit_dates]
            s.target_months, s.target_date = rules.settlement_target(
                s.case_type, original, cmd.permit_date
            )
            self._deadlines.move_target()
            if s.stage is CaseStage.SETTLED:
                self._deadlines.judge_settlement_target()
            return ids

        return await self._handle(cmd, apply)

    @correct_permit_date.validator
    def _validate_permit_correction(self, cmd: CorrectPermitDate) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_settlement_date(self, cmd: CorrectSettlementDate) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
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
                await self._tell_record(cmd.person_id, cmd.settled_on)
            if s.stage is CaseStage.SETTLED:
                self._deadlines.judge_settlement_target()
            return ids

        return await self._handle(cmd, apply)

    @correct_settlement_date.validator
    def _validate_settlement_correction(self, cmd: CorrectSettlementDate) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_settlement_application(
        self, cmd: RecordSettlementApplication
    ) -> CommandResult:
        async def apply() -> list[UUID]:
            ids = await self._record([(cmd.applied_on, SettlementApplicationReceived())])
            self._state.applied_on = cmd.applied_on
            return ids

        return await self._handle(cmd, apply)

    @record_settlement_application.validator
    def _validate_application(self, cmd: RecordSettlementApplication) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_recommendation(self, cmd: RecordRecommendation) -> CommandResult:
        async def apply() -> list[UUID]:
            event = MunicipalityRecommended(
                municipality_number=cmd.municipality_number, reason=cmd.reason
            )
            ids = await self._record([(cmd.recommended_on, event)])
            self._state.recommendation = Recommendation(
                municipality_number=cmd.municipality_number,
                reason=cmd.reason,
                recommended_on=cmd.recommended_on,
            )
            return ids

        return await self._handle(cmd, apply)

    @record_recommendation.validator
    def _validate_recommendation(self, cmd: RecordRecommendation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def add_household_member(self, cmd: AddHouseholdMember) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
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

        return await self._handle(cmd, apply)

    @add_household_member.validator
    def _validate_new_member(self, cmd: AddHouseholdMember) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def plan_settlement(self, cmd: PlanSettlement) -> CommandResult:
        async def apply() -> list[UUID]:
            event = SettlementPlanned(
                municipality_number=self._allocated_municipality(), planned_on=cmd.planned_on
            )
            ids = await self._record([(cmd.registered_on, event)])
            self._state.planned_settlement_on = cmd.planned_on
            self._state.planned_date_passed = False
            return ids

        return await self._handle(cmd, apply)

    @plan_settlement.validator
    def _validate_plan(self, cmd: PlanSettlement) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def book_travel(self, cmd: BookTravel) -> CommandResult:
        async def apply() -> list[UUID]:
            ids = await self._record([(cmd.booked_on, TravelBooked(arrival_on=cmd.arrival_on))])
            self._state.travel_arrival_on = cmd.arrival_on
            return ids

        return await self._handle(cmd, apply)

    @book_travel.validator
    def _validate_travel(self, cmd: BookTravel) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_arrival(self, cmd: RecordArrival) -> CommandResult:
        """Arrival in the municipality is settlement (R8); placement in a reception centre
        first (R8m) returns the household to allocation, its places released."""

        async def apply() -> list[UUID]:
            s = self._state
            arrived = ResettlementArrived(placed_in_reception=cmd.placed_in_reception)
            if cmd.placed_in_reception:
                ids = await self._record([(cmd.arrived_on, arrived)])
                await self._return_to_allocation()
                s.placed_in_reception = True
            else:
                everyone = [
                    PersonSettlement(person_id=p.person_id, settled_on=cmd.arrived_on)
                    for p in s.unsettled()
                ]
                ids = await self._settle(everyone, before=[(cmd.arrived_on, arrived)])
            s.arrived_on = cmd.arrived_on
            return ids

        return await self._handle(cmd, apply)

    @record_arrival.validator
    def _validate_arrival(self, cmd: RecordArrival) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def extend_entry_permit(self, cmd: ExtendEntryPermit) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
            previous = s.entry_permit_valid_until or rules.entry_permit_expiry(s.permit_date)
            event = EntryPermitExtended(previous_valid_until=previous, valid_until=cmd.valid_until)
            ids = await self._record([(cmd.decided_on, event)])
            s.entry_permit_valid_until = cmd.valid_until
            s.entry_permit_lapsed = False
            return ids

        return await self._handle(cmd, apply)

    @extend_entry_permit.validator
    def _validate_extension(self, cmd: ExtendEntryPermit) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_step_date(self, cmd: CorrectStepDate) -> CommandResult:
        async def apply() -> list[UUID]:
            s = self._state
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

        return await self._handle(cmd, apply)

    @correct_step_date.validator
    def _validate_step_correction(self, cmd: CorrectStepDate) -> None:
        self._commands.validate(cmd)

    async def _settle(
        self,
        settlements: Sequence[PersonSettlement],
        before: Sequence[tuple[date, EventData]] = (),
    ) -> list[UUID]:
        """Record settlement dates, and the events that lead to them, in one write; then use
        the places. Each PersonSettled carries the person's own permit date."""
        state = self._state
        municipality = self._allocated_municipality()
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
            await self._open_qualification_records(ordered, municipality)
        if len(state.settled) == len(state.persons):
            state.stage = CaseStage.SETTLED
            self._deadlines.judge_settlement_target()
        return ids

    async def _open_qualification_records(
        self, settlements: Sequence[PersonSettlement], municipality: str
    ) -> None:
        """A child workflow per newly settled adult, for their introduction programme and
        Norwegian training; it outlives the case (parent close policy: abandon). None for a
        settlement so old that every deadline of the record is past (an import)."""
        s = self._state
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

    async def _tell_record(self, person_id: str, settled_on: date) -> None:
        """Move the deadlines of the person's qualification record with their settlement."""
        record = workflow.get_external_workflow_handle(qualification_workflow_id(person_id))
        try:
            await record.signal(QualificationWorkflow.settlement_date_corrected, settled_on)
        except FailureError:
            # The record has concluded: its deadlines are behind it.
            workflow.logger.warning(
                "qualification record closed", extra={"case": self._state.case_id}
            )

    async def _return_to_allocation(self) -> None:
        """After a decline or a withdrawal: places released, back in the allocation pool."""
        await self._places.release()
        s = self._state
        s.municipality_number = None
        s.allocated_on = s.accepted_on = None
        s.reservation_id = s.reservation_year = None
        s.planned_settlement_on = s.travel_arrival_on = None
        s.planned_date_passed = False
        s.stage = CaseStage.SETTLEMENT_READY

    def _closed(self) -> bool:
        return self._state.stage in rules.CLOSED_STAGES

    def _allocated_municipality(self) -> str:
        municipality = self._state.municipality_number
        if municipality is None:  # the stage rules make this unreachable
            raise ApplicationError("no municipality allocated", non_retryable=True)
        return municipality

    # -- machinery --------------------------------------------------------------------

    def _check(self, cmd: Command) -> None:
        rules.check_command(self._state, cmd, workflow.now().date())

    async def _handle(
        self, cmd: Command, apply: Callable[[], Awaitable[list[UUID]]]
    ) -> CommandResult:
        """Apply a command (commanding.py: once, one at a time, checked under the lock); its
        events carry the trace of the request that sent it."""

        async def traced() -> CommandResult:
            self._traceparent = cmd.traceparent
            try:
                event_ids = await apply()
            finally:
                self._traceparent = None
            return self._result(event_ids)

        return await self._commands.handle(cmd, traced)

    def _result(self, event_ids: list[UUID]) -> CommandResult:
        result = CommandResult(
            case_id=self._state.case_id, stage=self._state.stage, event_ids=event_ids
        )
        self._upsert_search_attributes(stepped=True)
        return result

    async def _record(self, events: Sequence[tuple[date, EventData]]) -> list[UUID]:
        """Append events to the event log, all or none, then advance the sequence. Events of
        a command carry the trace of the request that sent it (see _handle)."""
        written = await record_events(
            self._state.case_id, self._state.last_sequence, events, self._traceparent
        )
        self._state.last_sequence += len(written)
        return [e.event_id for e in written]

    def _upsert_search_attributes(self, *, stepped: bool = False) -> None:
        """Make the state findable; ``stepped``: a command was applied, so the case moved."""
        s = self._state
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.CASE_STAGE.value_set(s.stage.value),
            sa.CASE_TYPE.value_set(s.case_type.value),
        ]
        hidden = any(p.protected_identity for p in s.persons) and workflow.patched(
            PROTECTED_WHEREABOUTS
        )
        if s.municipality_number is not None and not hidden:
            updates.append(sa.MUNICIPALITY_NUMBER.value_set(s.municipality_number))
        else:
            updates.append(sa.MUNICIPALITY_NUMBER.value_unset())
        if s.category is not None:
            updates.append(sa.CASE_CATEGORY.value_set(s.category.value))
        if workflow.patched(SETTLEMENT_TARGET_TIMERS):
            updates.append(sa.DEADLINE_STATE.value_set(s.deadline_state.value))
        if stepped and workflow.patched(STEP_CLOCK):
            updates.append(sa.LAST_STEP_AT.value_set(workflow.now()))
        workflow.upsert_search_attributes(updates)
