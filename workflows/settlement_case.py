"""SettlementCaseWorkflow: one durable entity workflow per household case.

Temporal history is the write model of a live case. Every command is an update whose
validator refuses an out-of-order step before anything is written (the rules: rules.py,
keyed by command; the command table: steps.py); the handler records the step's events
through an activity (the SQL event log, from which they are published to Kafka) and only then
changes the state, so a failed write changes nothing. This module is the Temporal wiring: the
case's life, its updates and search attributes. What each command does is in case_steps.py,
its places in case_places.py, its deadlines in case_deadlines.py, the command machinery it
shares with the qualification record in commanding.py.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.rules as rules
    import workflows.search_attributes as sa
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
    from schemas.enums import CaseStage
    from schemas.events import EventData, EventPerson, ResidencePermitGranted
    from schemas.state import CarriedCase, CaseState, CommandResult
    from workflows.case_deadlines import CaseDeadlines
    from workflows.case_places import CasePlaces
    from workflows.case_steps import CaseSteps, dossier_after
    from workflows.commanding import Commands
    from workflows.patches import (
        CONTINUE_AS_NEW,
        CORRECTION_WINDOW,
        PROTECTED_WHEREABOUTS,
        SETTLEMENT_TARGET_TIMERS,
        STEP_CLOCK,
        TRACKS,
    )
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
        self._registered_at: datetime | None = None
        """When the register it was imported from registered the command being applied."""
        self._applying: Command | None = None
        """The command being applied, whose events are being recorded (case_steps.dossier_after)."""
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
        self._places = CasePlaces(lambda: self._state, lambda: self._registered_at)
        self._deadlines = CaseDeadlines(
            state=lambda: self._state,
            lock=self._lock,
            record=self._record,
            closed=self._closed,
            show=self._upsert_search_attributes,
            municipality=self._allocated_municipality,
            target_epoch=start.target_epoch if isinstance(start, CarriedCase) else 0,
        )
        self._steps = CaseSteps(
            state=lambda: self._state,
            record=self._record,
            places=self._places,
            deadlines=self._deadlines,
            municipality=self._allocated_municipality,
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
            granted = ResidencePermitGranted(
                case_type=command.case_type,
                persons=persons,
                reception_centre=command.reception_centre,
                target_months=self._state.target_months,
                target_date=self._state.target_date,
            )
            self._traceparent, self._registered_at = command.traceparent, command.registered_at
            event_ids = await self._record([(command.permit_date, granted)])
            self._traceparent, self._registered_at = None, None
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
        return await self._handle(cmd, lambda: self._steps.record_competence_mapping(cmd))

    @record_competence_mapping.validator
    def _validate_competence_mapping(self, cmd: RecordCompetenceMapping) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_settlement_interview(self, cmd: RecordSettlementInterview) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.record_settlement_interview(cmd))

    @record_settlement_interview.validator
    def _validate_settlement_interview(self, cmd: RecordSettlementInterview) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def allocate_to_municipality(self, cmd: AllocateToMunicipality) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.allocate_to_municipality(cmd))

    @allocate_to_municipality.validator
    def _validate_allocation(self, cmd: AllocateToMunicipality) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def accept_allocation(self, cmd: AcceptAllocation) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.accept_allocation(cmd))

    @accept_allocation.validator
    def _validate_accept(self, cmd: AcceptAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def decline_allocation(self, cmd: DeclineAllocation) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.decline_allocation(cmd))

    @decline_allocation.validator
    def _validate_decline(self, cmd: DeclineAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def register_settlement(self, cmd: RegisterSettlement) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.register_settlement(cmd))

    @register_settlement.validator
    def _validate_settlement(self, cmd: RegisterSettlement) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def withdraw_allocation(self, cmd: WithdrawAllocation) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.withdraw_allocation(cmd))

    @withdraw_allocation.validator
    def _validate_withdrawal(self, cmd: WithdrawAllocation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_exit(self, cmd: RecordExit) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.record_exit(cmd))

    @record_exit.validator
    def _validate_exit(self, cmd: RecordExit) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_permit_date(self, cmd: CorrectPermitDate) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.correct_permit_date(cmd))

    @correct_permit_date.validator
    def _validate_permit_correction(self, cmd: CorrectPermitDate) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_settlement_date(self, cmd: CorrectSettlementDate) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.correct_settlement_date(cmd))

    @correct_settlement_date.validator
    def _validate_settlement_correction(self, cmd: CorrectSettlementDate) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_settlement_application(
        self, cmd: RecordSettlementApplication
    ) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.record_settlement_application(cmd))

    @record_settlement_application.validator
    def _validate_application(self, cmd: RecordSettlementApplication) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_recommendation(self, cmd: RecordRecommendation) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.record_recommendation(cmd))

    @record_recommendation.validator
    def _validate_recommendation(self, cmd: RecordRecommendation) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def add_household_member(self, cmd: AddHouseholdMember) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.add_household_member(cmd))

    @add_household_member.validator
    def _validate_new_member(self, cmd: AddHouseholdMember) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def plan_settlement(self, cmd: PlanSettlement) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.plan_settlement(cmd))

    @plan_settlement.validator
    def _validate_plan(self, cmd: PlanSettlement) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def book_travel(self, cmd: BookTravel) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.book_travel(cmd))

    @book_travel.validator
    def _validate_travel(self, cmd: BookTravel) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_arrival(self, cmd: RecordArrival) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.record_arrival(cmd))

    @record_arrival.validator
    def _validate_arrival(self, cmd: RecordArrival) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def extend_entry_permit(self, cmd: ExtendEntryPermit) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.extend_entry_permit(cmd))

    @extend_entry_permit.validator
    def _validate_extension(self, cmd: ExtendEntryPermit) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def correct_step_date(self, cmd: CorrectStepDate) -> CommandResult:
        return await self._handle(cmd, lambda: self._steps.correct_step_date(cmd))

    @correct_step_date.validator
    def _validate_step_correction(self, cmd: CorrectStepDate) -> None:
        self._commands.validate(cmd)

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
            self._traceparent, self._applying = cmd.traceparent, cmd
            self._registered_at = cmd.registered_at
            try:
                event_ids = await apply()
            finally:
                self._traceparent, self._applying, self._registered_at = None, None, None
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
            self._state.case_id,
            self._state.last_sequence,
            events,
            self._traceparent,
            dossier=lambda through: dossier_after(self._state, self._applying, through),
            registered_at=self._registered_at,
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
