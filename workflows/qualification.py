"""QualificationWorkflow: one adult's introduction programme and Norwegian training after
settlement (domain.md §2.6), a child of the household's case that outlives it.

It opens with the person's rights under the rules in force on their permit date, keeps the
deadlines as durable timers (programme start and Norwegian training offer within 3 months of
settlement, Norwegian completion within 18 months or 3 years) and takes the municipality's
steps as updates with validators, like the case. Its events form a stream of their own, keyed
by the person id. It ends when both the programme and the training are concluded, and
continues as new if its history grows long."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from uuid import UUID

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.qualification_rules as qualification_rules
    from schemas.commands import Command
    from schemas.errors import OUT_OF_ORDER
    from schemas.events import (
        EventData,
        NorwegianCompletionOverdue,
        NorwegianStartOverdue,
        NorwegianTrainingCompleted,
        NorwegianTrainingExempted,
        NorwegianTrainingStarted,
        ProgrammeDecided,
        ProgrammeEnded,
        ProgrammeLeaveRecorded,
        ProgrammeStarted,
        ProgrammeStartOverdue,
        QualificationDeadlinesMoved,
        QualificationMappingRecorded,
        RightsAssessed,
    )
    from schemas.qualification import (
        CompleteNorwegianTraining,
        DecideProgramme,
        EndProgramme,
        ExemptNorwegianTraining,
        NorwegianRight,
        ProgrammeRight,
        QualificationResult,
        QualificationStart,
        QualificationState,
        RecordLeave,
        RecordQualificationMapping,
        StartNorwegianTraining,
        StartProgramme,
    )
    from schemas.records import after
    from workflows.commanding import Commands
    from workflows.recording import record_events, watch_deadline
    from workflows.rules import RuleViolation, check_date_order, check_not_in_future


def _refuse(message: str, reason: str = OUT_OF_ORDER) -> RuleViolation:
    return RuleViolation(message, reason)


def _refusal(violation: RuleViolation) -> ApplicationError:
    return ApplicationError(str(violation), type=violation.reason, non_retryable=True)


@workflow.defn
class QualificationWorkflow:
    @workflow.init
    def __init__(
        self, start: QualificationStart, carried: QualificationState | None = None
    ) -> None:
        protected = start.protected_identity or start.household_protected
        if carried is not None:
            self._state = carried.model_copy(update={"protected": protected})
        else:
            rights = qualification_rules.assess(start)
            self._state = QualificationState(
                case_id=start.case_id,
                person_id=start.person_id,
                municipality_number=start.municipality_number,
                case_type=start.case_type,
                rules=rights.rules,
                programme_right=rights.programme_right,
                norwegian_right=rights.norwegian_right,
                permit_date=start.permit_date,
                settled_on=start.settled_on,
                programme_start_due=rights.programme_start_due,
                norwegian_start_due=rights.norwegian_start_due,
                norwegian_completion_due=rights.norwegian_completion_due,
                protected=protected,
            )
        self._start = start
        self._opened = carried is not None
        self._lock = asyncio.Lock()
        self._commands = Commands[QualificationResult](
            applied=lambda: self._state.applied_commands,
            check=self._check,
            refuse=_refusal,
            opened=lambda: self._opened,
            lock=self._lock,
        )

    @workflow.run
    async def run(
        self, start: QualificationStart, carried: QualificationState | None = None
    ) -> QualificationState:
        s = self._state
        if carried is None:
            async with self._lock:
                opened = RightsAssessed(
                    case_id=s.case_id,
                    municipality_number=s.municipality_number,
                    case_type=s.case_type,
                    rules=s.rules,
                    programme_right=s.programme_right,
                    norwegian_right=s.norwegian_right,
                    programme_start_due=s.programme_start_due,
                    norwegian_start_due=s.norwegian_start_due,
                    norwegian_completion_due=s.norwegian_completion_due,
                    rights_start=qualification_rules.rights_start(self._start),
                    protected_identity=self._start.protected_identity,
                    household_protected=self._start.household_protected,
                )
                await self._record([(s.settled_on, opened)])
                self._opened = True
        watches = [
            self._watch(
                lambda: self._state.programme_start_due, self._programme_started, self._late_start
            ),
            self._watch(
                lambda: self._state.norwegian_start_due,
                self._norwegian_started,
                self._late_training,
            ),
            self._watch(
                lambda: self._state.norwegian_completion_due,
                self._norwegian_done,
                self._late_completion,
            ),
        ]
        tasks = [asyncio.create_task(w) for w in watches]
        await workflow.wait_condition(
            lambda: (
                (self._concluded() or workflow.info().is_continue_as_new_suggested())
                and workflow.all_handlers_finished()
            )
        )
        # Timers of deadlines no longer needed go before the workflow closes or continues.
        for task in tasks:
            task.cancel()
        if not self._concluded():
            workflow.continue_as_new(args=[start, self._state])
        return self._state

    @workflow.query
    def state(self) -> QualificationState:
        return self._state

    # -- the municipality's steps ---------------------------------------------------------

    @workflow.update
    async def record_mapping(self, cmd: RecordQualificationMapping) -> QualificationResult:
        return await self._step(cmd, cmd.mapped_on, QualificationMappingRecorded())

    @record_mapping.validator
    def _validate_mapping(self, cmd: RecordQualificationMapping) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def decide_programme(self, cmd: DecideProgramme) -> QualificationResult:
        return await self._step(
            cmd,
            cmd.decided_on,
            ProgrammeDecided(end_goal=cmd.end_goal, planned_months=cmd.planned_months),
        )

    @decide_programme.validator
    def _validate_decision(self, cmd: DecideProgramme) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def start_programme(self, cmd: StartProgramme) -> QualificationResult:
        return await self._step(cmd, cmd.started_on, ProgrammeStarted())

    @start_programme.validator
    def _validate_start(self, cmd: StartProgramme) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def record_leave(self, cmd: RecordLeave) -> QualificationResult:
        return await self._step(cmd, cmd.from_on, ProgrammeLeaveRecorded(until_on=cmd.until_on))

    @record_leave.validator
    def _validate_leave(self, cmd: RecordLeave) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def end_programme(self, cmd: EndProgramme) -> QualificationResult:
        return await self._step(
            cmd,
            cmd.ended_on,
            ProgrammeEnded(reason=cmd.reason, main_activity=cmd.main_activity),
        )

    @end_programme.validator
    def _validate_end(self, cmd: EndProgramme) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def start_norwegian_training(self, cmd: StartNorwegianTraining) -> QualificationResult:
        return await self._step(cmd, cmd.started_on, NorwegianTrainingStarted())

    @start_norwegian_training.validator
    def _validate_training_start(self, cmd: StartNorwegianTraining) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def complete_norwegian_training(
        self, cmd: CompleteNorwegianTraining
    ) -> QualificationResult:
        return await self._step(
            cmd,
            cmd.completed_on,
            NorwegianTrainingCompleted(),
        )

    @complete_norwegian_training.validator
    def _validate_completion(self, cmd: CompleteNorwegianTraining) -> None:
        self._commands.validate(cmd)

    @workflow.update
    async def exempt_norwegian_training(self, cmd: ExemptNorwegianTraining) -> QualificationResult:
        return await self._step(
            cmd,
            cmd.exempted_on,
            NorwegianTrainingExempted(),
        )

    @exempt_norwegian_training.validator
    def _validate_exemption(self, cmd: ExemptNorwegianTraining) -> None:
        self._commands.validate(cmd)

    # -- rules ----------------------------------------------------------------------------

    def _check(self, cmd: Command) -> None:
        s = self._state
        today = workflow.now().date()
        match cmd:
            case RecordQualificationMapping(mapped_on=d):
                if s.programme_decided_on is not None:
                    raise _refuse("record_mapping: the programme is already decided (Q2)")
                check_not_in_future("mapped_on", d, today)
            case DecideProgramme(decided_on=d):
                if s.programme_decided_on is not None:
                    raise _refuse("decide_programme: the programme is already decided")
                check_not_in_future("decided_on", d, today)
                check_date_order("decided_on", d, "settlement", s.settled_on)
                check_date_order("decided_on", d, "the competence mapping", s.mapped_on)
            case StartProgramme(started_on=d):
                if s.programme_decided_on is None:
                    raise _refuse("start_programme: decide the programme first")
                if s.programme_started_on is not None:
                    raise _refuse("start_programme: the programme has started")
                check_not_in_future("started_on", d, today)
                check_date_order("started_on", d, "the decision", s.programme_decided_on)
            case RecordLeave(from_on=d):
                self._check_in_programme("record_leave")
                check_not_in_future("from_on", d, today)
                check_date_order("from_on", d, "the programme start", s.programme_started_on)
            case EndProgramme(ended_on=d):
                self._check_in_programme("end_programme")
                check_not_in_future("ended_on", d, today)
                check_date_order("ended_on", d, "the programme start", s.programme_started_on)
            case StartNorwegianTraining(started_on=d):
                self._check_training_open("start_norwegian_training")
                if s.norwegian_started_on is not None:
                    raise _refuse("start_norwegian_training: the training has started")
                check_not_in_future("started_on", d, today)
                check_date_order("started_on", d, "the permit date", s.permit_date)
            case CompleteNorwegianTraining(completed_on=d):
                self._check_training_open("complete_norwegian_training")
                if s.norwegian_started_on is None:
                    raise _refuse("complete_norwegian_training: the training has not started")
                check_not_in_future("completed_on", d, today)
                check_date_order("completed_on", d, "the start", s.norwegian_started_on)
            case ExemptNorwegianTraining(exempted_on=d):
                self._check_training_open("exempt_norwegian_training")
                check_not_in_future("exempted_on", d, today)

    def _check_in_programme(self, command: str) -> None:
        s = self._state
        if s.programme_started_on is None:
            raise _refuse(f"{command}: the programme has not started")
        if s.programme_ended_on is not None:
            raise _refuse(f"{command}: the programme ended on {s.programme_ended_on}")

    def _check_training_open(self, command: str) -> None:
        s = self._state
        if s.norwegian_right is NorwegianRight.NONE:
            raise _refuse(f"{command}: the person has no right or duty to Norwegian training")
        if s.norwegian_completed_on is not None or s.norwegian_exempted_on is not None:
            raise _refuse(f"{command}: the training is concluded")

    def _concluded(self) -> bool:
        return self._state.programme_concluded() and self._state.norwegian_concluded()

    # -- deadlines --------------------------------------------------------------------------

    def _programme_started(self) -> bool:
        s = self._state
        if s.programme_right is not ProgrammeRight.RIGHT_AND_OBLIGATION:
            return True  # no deadline for those who may be offered a programme
        return s.programme_started_on is not None or s.programme_ended_on is not None

    def _norwegian_started(self) -> bool:
        s = self._state
        return s.norwegian_started_on is not None or s.norwegian_concluded()

    def _norwegian_done(self) -> bool:
        return self._state.norwegian_concluded()

    async def _late_start(self, due: date) -> None:
        await self._happen(due + timedelta(days=1), ProgrammeStartOverdue(due_on=due))

    async def _late_training(self, due: date) -> None:
        await self._happen(due + timedelta(days=1), NorwegianStartOverdue(due_on=due))

    async def _late_completion(self, due: date) -> None:
        await self._happen(due + timedelta(days=1), NorwegianCompletionOverdue(due_on=due))

    async def _watch(
        self,
        due: Callable[[], date | None],
        done: Callable[[], bool],
        lapse: Callable[[date], Awaitable[None]],
    ) -> None:
        """An event the day after the due date unless ``done()`` first; a corrected settlement
        date moves it. A deadline already past when the record opens raises nothing."""
        await watch_deadline(
            due=due, done=done, closed=self._concluded, lock=self._lock, lapse=lapse
        )

    @workflow.signal
    async def settlement_date_corrected(self, settled_on: date) -> None:
        """From the case: the person's settlement date was corrected; the deadlines that run
        from it move."""
        await workflow.wait_condition(lambda: self._opened)
        async with self._lock:
            s = self._state
            if settled_on == s.settled_on:
                return
            rights = qualification_rules.assess(
                self._start.model_copy(update={"settled_on": settled_on})
            )
            moved = self._start.model_copy(update={"settled_on": settled_on})
            event = QualificationDeadlinesMoved(
                previous_settled_on=s.settled_on,
                programme_start_due=rights.programme_start_due,
                norwegian_start_due=rights.norwegian_start_due,
                norwegian_completion_due=rights.norwegian_completion_due,
                rights_start=qualification_rules.rights_start(moved),
            )
            await self._happen(settled_on, event)

    # -- machinery ------------------------------------------------------------------------

    async def _step(
        self, cmd: Command, business_date: date, event: EventData
    ) -> QualificationResult:
        """The shape of every step: its one event happens to the record."""
        return await self._handle(cmd, lambda: self._happen(business_date, event))

    async def _happen(self, business_date: date, event: EventData) -> list[UUID]:
        """Record the event, then let it change the record (schemas/records.py, the rule the
        case register folds the record's stream by), so a failed write changes nothing."""
        ids = await self._record([(business_date, event)])
        self._state = after(self._state, event, business_date)
        return ids

    async def _handle(
        self, cmd: Command, apply: Callable[[], Awaitable[list[UUID]]]
    ) -> QualificationResult:
        async def result() -> QualificationResult:
            return QualificationResult(person_id=self._state.person_id, event_ids=await apply())

        return await self._commands.handle(cmd, result)

    async def _record(self, events: list[tuple[date, EventData]]) -> list[UUID]:
        written = await record_events(self._state.person_id, self._state.last_sequence, events)
        self._state.last_sequence += len(written)
        return [e.event_id for e in written]
