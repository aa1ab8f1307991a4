"""CaseService: the one way in for every caller that acts on cases — the CLI, the demo, and
the HTTP API to come. It turns commands into Temporal starts and updates, and Temporal's
failures into our errors."""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.commands import Command, GrantPermit, WithdrawAllocation
from schemas.enums import CaseStage, WithdrawalReason
from schemas.errors import OUT_OF_ORDER, CaseNotFound, CommandRejected
from schemas.ids import workflow_id_for
from schemas.state import CaseState, CommandResult
from workers.platform.fanout import for_each
from workers.platform.temporal import patiently
from workflows import rules
from workflows import search_attributes as sa
from workflows.settlement_case import SettlementCaseWorkflow
from workflows.steps import STEP

T = TypeVar("T")


async def _wall_clock() -> datetime:
    return datetime.now(UTC)


class CaseService:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        clock: Callable[[], Awaitable[datetime]] | None = None,
        patience_s: float = 60.0,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._patience = patience_s
        """How long a call waits out an unavailable Temporal, resending with the same ids
        (safe: a start is deduplicated by workflow id, an update by its command id)."""
        self._clock = clock or _wall_clock
        """What 'today' is for the edge's checks: the workflows' clock (the wall clock, but
        for the time-skipping test server, whose clock runs ahead)."""

    async def grant_permit(self, cmd: GrantPermit) -> None:
        """Open the case. Granting the same case again is a no-op while it runs, and refused
        once it has closed (a case id is never reused). A permit dated in the future is
        refused here, at the edge: the workflow starts from it and cannot refuse its input."""
        try:
            today = (await self._clock()).date()
            rules.check_not_in_future("permit_date", cmd.permit_date, today)
        except rules.RuleViolation as exc:
            raise CommandRejected(str(exc), reason=exc.reason) from None
        await self._patiently(
            lambda: self._client.start_workflow(
                SettlementCaseWorkflow.run,
                cmd,
                id=workflow_id_for(cmd.case_id),
                task_queue=self._task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sa.initial(cmd.case_type.value, datetime.now(UTC)),
            )
        )

    async def execute(self, case_id: str, cmd: Command) -> CommandResult:
        """Send any command to its case."""
        return await self._update(case_id, cmd)

    async def case_ids(self, query: str) -> list[str]:
        """Ids of the running cases a visibility query finds, e.g.
        ``CaseStage='accepted' AND CaseType='resettlement'``."""
        prefix = workflow_id_for("")
        full = f"WorkflowType='SettlementCaseWorkflow' AND ExecutionStatus='Running' AND ({query})"
        return [
            execution.id.removeprefix(prefix)
            async for execution in self._client.list_workflows(full)
        ]

    async def withdraw_many(
        self,
        case_ids: list[str],
        withdrawn_on: date,
        reason: WithdrawalReason,
        on_done: Callable[[], None] = lambda: None,
    ) -> dict[str, str]:
        """Withdraw many allocations at once (as in March 2020). Each case gets its own
        command, whose id names the allocation it withdraws: a re-run after an interruption
        withdraws nothing twice, and a later allocation of the same case is a new one. Returns
        the cases refused, with why."""
        refused: dict[str, str] = {}

        async def one(case_id: str) -> None:
            try:
                allocation = (await self.state(case_id)).allocations
                cmd = WithdrawAllocation(
                    command_id=f"withdraw/allocation-{allocation}",
                    withdrawn_on=withdrawn_on,
                    reason=reason,
                )
                await self.execute(case_id, cmd)
            except (CommandRejected, CaseNotFound) as exc:
                refused[case_id] = str(exc)

        await for_each(case_ids, one, on_done=on_done)
        return refused

    async def compact_many(
        self, case_ids: list[str], on_done: Callable[[], None] = lambda: None
    ) -> None:
        async def one(case_id: str) -> None:
            await self.compact(case_id)

        await for_each(case_ids, one, on_done=on_done)

    async def compact(self, case_id: str) -> None:
        """Ask a case to continue as new at its next quiet moment (operations)."""
        try:
            await self._patiently(
                lambda: self._handle(case_id).signal(SettlementCaseWorkflow.compact)
            )
        except RPCError as exc:
            raise _not_found_or(exc, case_id) from None

    async def run_id(self, case_id: str) -> str:
        """The id of the case's current run (it changes when the case continues as new)."""
        try:
            described = await self._patiently(self._handle(case_id).describe)
        except RPCError as exc:
            raise _not_found_or(exc, case_id) from None
        return described.run_id

    async def state(self, case_id: str) -> CaseState:
        try:
            return await self._patiently(
                lambda: self._handle(case_id).query(SettlementCaseWorkflow.state)
            )
        except RPCError as exc:
            raise _not_found_or(exc, case_id) from None

    async def _patiently(self, call: Callable[[], Awaitable[T]]) -> T:
        return await patiently(call, self._patience)

    def _handle(self, case_id: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(workflow_id_for(case_id))

    async def _update(self, case_id: str, cmd: Command) -> CommandResult:
        """Carry the command by its update (workflows/steps.py)."""
        update = STEP[type(cmd)].update
        try:
            result: CommandResult = await self._patiently(
                lambda: self._handle(case_id).execute_update(
                    update, cmd, id=cmd.command_id, result_type=CommandResult
                )
            )
            return result
        except WorkflowUpdateFailedError as exc:
            raise rejection(exc) from None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                await self._raise_if_closed(case_id)
            raise _not_found_or(exc, case_id) from None

    async def _raise_if_closed(self, case_id: str) -> None:
        """An update to a finished workflow answers NOT_FOUND; the case does exist."""
        try:
            described = await self._handle(case_id).describe()
        except RPCError:
            return
        if described.status == WorkflowExecutionStatus.COMPLETED:
            raise CommandRejected(
                f"case {case_id!r} is closed: every member is settled",
                reason=OUT_OF_ORDER,
                stage=CaseStage.SETTLED,
            ) from None
        if described.status != WorkflowExecutionStatus.RUNNING:
            status = described.status.name.lower() if described.status else "unknown"
            raise CommandRejected(
                f"case {case_id!r} is closed ({status})", reason=OUT_OF_ORDER
            ) from None


def rejection(exc: WorkflowUpdateFailedError) -> Exception:
    """Our error for a refused update: the workflow's message, type and stage."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return exc
    details = cause.details[0] if cause.details else {}
    stage = details.get("stage") if isinstance(details, dict) else None
    return CommandRejected(
        cause.message,
        reason=cause.type or "Rejected",
        stage=CaseStage(stage) if stage else None,
    )


def _not_found_or(exc: RPCError, case_id: str) -> Exception:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return CaseNotFound(f"case {case_id!r} not found")
    return exc
