"""PlacesService: municipalities' decided places and their ledgers, for caseworkers, the
demo and (later) the API."""

from datetime import date

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from schemas.errors import INVALID_COMMAND, CommandRejected
from schemas.places import PlacesLedger, RecordPlacesDecision, places_workflow_id
from workers.allocation.municipalities import MunicipalityRegister, UnknownMunicipality
from workers.platform.fanout import for_each
from workers.platform.temporal import patiently
from workers.services.cases import rejection
from workflows.municipality_places import MunicipalityPlacesWorkflow


class PlacesService:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        register: MunicipalityRegister,
        *,
        patience_s: float = 60.0,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._register = register
        self._patience = patience_s
        """How long a call waits out an unavailable Temporal (``platform.temporal.patiently``)."""

    async def record_decision(
        self, municipality_number: str, year: int, decision: RecordPlacesDecision
    ) -> PlacesLedger:
        """Record (or revise) a council's decision; starts the ledger if it is the first."""
        try:
            self._register.get(municipality_number, date(year, 1, 1))
        except UnknownMunicipality as exc:
            raise CommandRejected(str(exc), reason=INVALID_COMMAND) from None
        start = WithStartWorkflowOperation(
            MunicipalityPlacesWorkflow.run,
            PlacesLedger(municipality_number=municipality_number, year=year),
            id=places_workflow_id(municipality_number, year),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            ledger: PlacesLedger = await patiently(
                lambda: self._client.execute_update_with_start_workflow(
                    MunicipalityPlacesWorkflow.record_decision,
                    decision,
                    start_workflow_operation=start,
                    id=decision.command_id,
                ),
                self._patience,
            )
        except WorkflowUpdateFailedError as exc:
            raise rejection(exc) from None
        return ledger

    async def ledgers(self, year: int) -> list[PlacesLedger]:
        """Every municipality's ledger for the year that has one (found by visibility)."""
        query = "WorkflowType='MunicipalityPlacesWorkflow' AND ExecutionStatus='Running'"
        numbers = []
        async for execution in self._client.list_workflows(query):
            number = execution.id.split("/")[1]
            if execution.id == places_workflow_id(number, year):
                numbers.append(number)
        found: list[PlacesLedger] = []

        async def one(number: str) -> None:
            found.append(await self.ledger(number, year))

        await for_each(sorted(set(numbers)), one)
        return sorted(found, key=lambda ledger: ledger.municipality_number)

    async def ledger(self, municipality_number: str, year: int) -> PlacesLedger:
        handle = self._client.get_workflow_handle_for(
            MunicipalityPlacesWorkflow.run, places_workflow_id(municipality_number, year)
        )
        try:
            return await patiently(
                lambda: handle.query(MunicipalityPlacesWorkflow.ledger), self._patience
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return PlacesLedger(municipality_number=municipality_number, year=year)
            raise
