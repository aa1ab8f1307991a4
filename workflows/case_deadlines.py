"""A case's deadlines, each a durable timer: the settlement target (a warning, then a
breach), the track's own deadlines (the private-address application, a resettlement entry
permit, the planned settlement date) and the municipality's reply window.

Deadlines measure business time from the permit date. A deadline already past when it becomes
known (a historical import, or a correction that moves it into the past) raises no alert: the
state says where the case stands and the figures count it, but nobody is paged about 2020
today. When a date moves, its watch starts over (the updatable-timer shape)."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from uuid import UUID

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.rules as rules
    from schemas.deadlines import WARNING_LEAD_DAYS, settled_verdict
    from schemas.enums import CaseStage, CaseType, DeadlineState, ExitReason
    from schemas.events import (
        CaseExited,
        EntryPermitLapsed,
        EventData,
        MunicipalityReplyOverdue,
        PlannedSettlementDatePassed,
        SettlementApplicationLapsed,
        SettlementTargetApproaching,
        SettlementTargetBreached,
    )
    from schemas.state import CaseState
    from workflows.recording import sleep_until, watch_deadline

Record = Callable[[Sequence[tuple[date, EventData]]], Awaitable[list[UUID]]]


class CaseDeadlines:
    """Handed what it needs by the case: its state, the lock it shares with the commands, how
    to record events and show the state (search attributes), whether the case has closed, and
    the allocated municipality. ``target_epoch`` is bumped when the target moves."""

    def __init__(
        self,
        *,
        state: Callable[[], CaseState],
        lock: asyncio.Lock,
        record: Record,
        closed: Callable[[], bool],
        show: Callable[[], None],
        municipality: Callable[[], str],
        target_epoch: int = 0,
    ) -> None:
        self._state = state
        self._lock = lock
        self._record = record
        self._closed = closed
        self._show = show
        self._municipality = municipality
        self.target_epoch = target_epoch
        self._tasks: list[asyncio.Task[None]] = []
        self._reply_watch: asyncio.Task[None] | None = None

    def tasks(self) -> list[asyncio.Task[None]]:
        """The running watches (the case cancels them before it continues as new)."""
        return [*self._tasks, *([self._reply_watch] if self._reply_watch else [])]

    # -- the settlement target ---------------------------------------------------------------

    def move_target(self) -> None:
        """The target moved (a corrected permit date): the watch starts over."""
        self.target_epoch += 1

    def judge_settlement_target(self) -> None:
        """Judged on business dates: a late registration of a timely settlement is met."""
        s = self._state()
        last = max(p.settled_on for p in s.settled.values())
        s.deadline_state = settled_verdict(s.target_date, last)

    async def watch_settlement_target(self) -> None:
        """A warning WARNING_LEAD_DAYS before the target date and an event when it has passed
        with members unsettled."""
        while not self._closed():
            epoch = self.target_epoch
            await self._watch_target(epoch)
            await workflow.wait_condition(self._closed_or_moved(epoch))

    def _closed_or_moved(self, epoch: int) -> Callable[[], bool]:
        return lambda: self._closed() or self.target_epoch != epoch

    async def _watch_target(self, epoch: int) -> None:
        months, target = self._state().target_months, self._state().target_date
        warn_on = target - timedelta(days=WARNING_LEAD_DAYS)
        breach_on = target + timedelta(days=1)
        today = workflow.now().date()
        if today >= breach_on:
            await self._set_deadline_state(DeadlineState.BREACHED)
            return
        if today >= warn_on:
            await self._set_deadline_state(DeadlineState.APPROACHING)
        else:
            await self._set_deadline_state(DeadlineState.ON_TRACK)
            if await sleep_until(warn_on, self._closed_or_moved(epoch)):
                return
            warning = SettlementTargetApproaching(target_months=months, target_date=target)
            await self._set_deadline_state(DeadlineState.APPROACHING, warn_on, warning)
        if await sleep_until(breach_on, self._closed_or_moved(epoch)):
            return
        s = self._state()
        breach = SettlementTargetBreached(
            target_months=months,
            target_date=target,
            unsettled_persons=len(s.persons) - len(s.settled),
        )
        await self._set_deadline_state(DeadlineState.BREACHED, breach_on, breach)

    async def _set_deadline_state(
        self, new: DeadlineState, business_date: date | None = None, event: EventData | None = None
    ) -> None:
        async with self._lock:
            if self._closed():
                return
            if event is not None and business_date is not None:
                await self._record([(business_date, event)])
            if self._state().deadline_state is not new:
                self._state().deadline_state = new
                self._show()

    # -- the track's deadlines -----------------------------------------------------------------

    def set_track_deadlines(self) -> None:
        s = self._state()
        if s.case_type is CaseType.PRIVATE_ADDRESS:
            s.application_due_on = rules.application_due(s.permit_date)
        if s.case_type is CaseType.RESETTLEMENT:
            s.entry_permit_valid_until = rules.entry_permit_expiry(s.permit_date)

    def start_track_deadlines(self) -> None:
        """The private-address application, the entry permit of a resettlement household,
        and the planned settlement date of any household."""
        s = self._state()
        if s.case_type is CaseType.PRIVATE_ADDRESS:
            self._watch(
                lambda: self._state().application_due_on,
                lambda: self._state().applied_on is not None,
                self._application_lapsed,
            )
        if s.case_type is CaseType.RESETTLEMENT:
            self._watch(
                lambda: self._state().entry_permit_valid_until,
                lambda: self._state().arrived_on is not None,
                self._entry_permit_lapsed,
            )
        self._watch(
            lambda: self._state().planned_settlement_on, lambda: False, self._planned_date_passed
        )

    def _watch(
        self,
        due: Callable[[], date | None],
        done: Callable[[], bool],
        lapse: Callable[[date], Awaitable[None]],
    ) -> None:
        watch = watch_deadline(
            due=due, done=done, closed=self._closed, lock=self._lock, lapse=lapse
        )
        self._tasks.append(asyncio.create_task(watch))

    async def _application_lapsed(self, due_on: date) -> None:
        s = self._state()
        lapsed_on = due_on + timedelta(days=1)
        exited = CaseExited(reason=ExitReason.NO_APPLICATION, unsettled_persons=len(s.persons))
        await self._record(
            [
                (lapsed_on, SettlementApplicationLapsed(application_due_on=due_on)),
                (lapsed_on, exited),
            ]
        )
        s.exit_reason = ExitReason.NO_APPLICATION
        s.stage = CaseStage.EXITED
        self._show()

    async def _entry_permit_lapsed(self, valid_until: date) -> None:
        event = EntryPermitLapsed(valid_until=valid_until)
        await self._record([(valid_until + timedelta(days=1), event)])
        self._state().entry_permit_lapsed = True

    async def _planned_date_passed(self, planned_on: date) -> None:
        event = PlannedSettlementDatePassed(
            municipality_number=self._municipality(), planned_on=planned_on
        )
        await self._record([(planned_on + timedelta(days=1), event)])
        self._state().planned_date_passed = True

    # -- the municipality's reply window ---------------------------------------------------------

    def watch_reply(self) -> None:
        """Watch the current allocation's reply window, if it has one."""
        s = self._state()
        if s.reply_due_on is not None:
            self._reply_watch = asyncio.create_task(self._reply(s.allocations, s.reply_due_on))

    def rewatch_reply(self) -> None:
        """The reply window moved with a corrected allocation date: the watch starts over."""
        if self._reply_watch is not None:
            self._reply_watch.cancel()
        self._state().reply_overdue = False
        self.watch_reply()

    async def _reply(self, allocation: int, due_on: date) -> None:
        """One week for the municipality to answer (resettlement): an event the day after, if
        the allocation still stands unanswered. A window already past raises nothing."""
        overdue_on = due_on + timedelta(days=1)
        if workflow.now().date() >= overdue_on:
            return

        def answered() -> bool:
            s = self._state()
            return s.allocations != allocation or s.stage is not CaseStage.ALLOCATED

        if await sleep_until(overdue_on, answered):
            return
        async with self._lock:
            if answered():
                return
            event = MunicipalityReplyOverdue(
                municipality_number=self._municipality(), reply_due_on=due_on
            )
            await self._record([(overdue_on, event)])
            self._state().reply_overdue = True
