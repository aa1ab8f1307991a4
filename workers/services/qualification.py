"""QualificationService: the municipality's way in to an adult's qualification record
(introduction programme and Norwegian training), by person id."""

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.commands import Command
from schemas.errors import CaseNotFound
from schemas.qualification import (
    QualificationResult,
    QualificationState,
    qualification_workflow_id,
)
from workers.platform.temporal import patiently
from workers.services.cases import rejection
from workflows.qualification import QualificationWorkflow
from workflows.steps import STEP


class QualificationService:
    def __init__(self, client: Client, *, patience_s: float = 60.0) -> None:
        self._client = client
        self._patience = patience_s
        """How long a call waits out an unavailable Temporal (``platform.temporal.patiently``)."""

    async def execute(self, person_id: str, cmd: Command) -> QualificationResult:
        handle = self._client.get_workflow_handle(qualification_workflow_id(person_id))
        try:
            result: QualificationResult = await patiently(
                lambda: handle.execute_update(
                    STEP[type(cmd)].update, cmd, id=cmd.command_id, result_type=QualificationResult
                ),
                self._patience,
            )
            return result
        except WorkflowUpdateFailedError as exc:
            raise rejection(exc) from None
        except RPCError as exc:
            raise _not_found_or(exc, person_id) from None

    async def state(self, person_id: str) -> QualificationState:
        handle = self._client.get_workflow_handle(qualification_workflow_id(person_id))
        try:
            state: QualificationState = await patiently(
                lambda: handle.query(QualificationWorkflow.state), self._patience
            )
            return state
        except RPCError as exc:
            raise _not_found_or(exc, person_id) from None


def _not_found_or(exc: RPCError, person_id: str) -> Exception:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return CaseNotFound(f"no qualification record for person {person_id!r}")
    return exc
