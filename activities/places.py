"""Activities that act on a municipality's places ledger from a case workflow.

They call the ledger workflow's updates by name (activities never import workflows). A
refusal by the ledger is a domain answer, not a fault: it is re-raised as a non-retryable
error of the same type so that the case workflow can refuse the allocation."""

from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schemas.places import PlacesLedger, places_workflow_id
from schemas.ports import (
    NO_PLACES_LEFT,
    RELEASE_PLACES,
    RESERVE_PLACES,
    USE_PLACES,
    PlacesRequest,
)


class PlacesActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def _update(
        self, request: PlacesRequest, update: str, arg: Any, *, missing_ok: bool = False
    ) -> None:
        handle = self._client.get_workflow_handle(
            places_workflow_id(request.municipality_number, request.year)
        )
        try:
            await handle.execute_update(update, arg, result_type=PlacesLedger)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from None
            raise
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            if missing_ok:
                return
            raise ApplicationError(
                f"municipality {request.municipality_number} has decided no places for "
                f"{request.year}",
                type=NO_PLACES_LEFT,
                non_retryable=True,
            ) from None

    @activity.defn(name=RESERVE_PLACES)
    async def reserve_places(self, request: PlacesRequest) -> None:
        await self._update(request, "reserve", request.reserve)

    @activity.defn(name=RELEASE_PLACES)
    async def release_places(self, request: PlacesRequest) -> None:
        await self._update(request, "release", request.release, missing_ok=True)

    @activity.defn(name=USE_PLACES)
    async def use_places(self, request: PlacesRequest) -> None:
        await self._update(request, "use", request.use)
