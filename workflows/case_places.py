"""A case's places in its municipality's ledger for the year (workflows/municipality_places.py
keeps the ledger): held at allocation, given back at a decline, withdrawal or exit, used at
settlement. Each is an activity the ledger answers; a refusal (no places left) becomes the
case's refusal of the command, with nothing recorded."""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.rules as rules
    from schemas.commands import AllocateToMunicipality, PersonRecord
    from schemas.enums import Category
    from schemas.errors import INVALID_COMMAND
    from schemas.places import ReleasePlaces, ReservePlaces, UsePlaces, reservation_id_for
    from schemas.ports import (
        NO_PLACES_LEFT,
        RELEASE_PLACES,
        RESERVE_PLACES,
        USE_PLACES,
        PlacesRequest,
    )
    from schemas.state import CaseState

PLACES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
    non_retryable_error_types=[NO_PLACES_LEFT, INVALID_COMMAND],
)


class CasePlaces:
    def __init__(
        self,
        state: Callable[[], CaseState],
        registered_at: Callable[[], datetime | None] = lambda: None,
    ) -> None:
        self._state = state
        self._registered_at = registered_at
        """When the old register registered the step being applied (an import), if it did:
        the ledger's event keeps that time, as the case's do."""

    async def reserve(self, cmd: AllocateToMunicipality) -> None:
        """Hold places for the unsettled members in the municipality's ledger for the year of
        the allocation; refused (and nothing recorded) if too few are left."""
        s = self._state()
        persons = [p for p in s.persons if p.person_id not in s.settled]
        category = rules.household_category(persons, cmd.allocated_on)
        reservation_id = reservation_id_for(s.case_id, cmd.command_id)
        await self._run(
            RESERVE_PLACES,
            PlacesRequest(
                municipality_number=cmd.municipality_number,
                year=cmd.allocated_on.year,
                reserve=ReservePlaces(
                    reservation_id=reservation_id,
                    case_id=s.case_id,
                    persons=len(persons),
                    unaccompanied_minors=category is Category.UNACCOMPANIED_MINOR,
                    protected_identity=any(p.protected_identity for p in s.persons),
                    registered_at=self._registered_at(),
                ),
            ),
        )
        s.reservation_id, s.reservation_year = reservation_id, cmd.allocated_on.year

    async def reserve_newcomer(self, person: PersonRecord) -> None:
        """An allocated household holds places: a member who joins needs one too, or the
        command is refused and nothing is recorded. The reservation grows to the unsettled
        members and the newcomer."""
        if target := self._reservation():
            municipality, year, reservation_id = target
            s = self._state()
            await self._run(
                RESERVE_PLACES,
                PlacesRequest(
                    municipality_number=municipality,
                    year=year,
                    reserve=ReservePlaces(
                        reservation_id=reservation_id,
                        case_id=s.case_id,
                        persons=len(s.unsettled()) + 1,
                        # A reservation keeps the kind of places it was made from.
                        unaccompanied_minors=False,
                        protected_identity=person.protected_identity,
                        registered_at=self._registered_at(),
                    ),
                ),
            )

    async def release(self) -> None:
        """Give back what the current reservation still holds (places used stay used)."""
        if target := self._reservation():
            municipality, year, reservation_id = target
            request = PlacesRequest(
                municipality_number=municipality,
                year=year,
                release=ReleasePlaces(
                    reservation_id=reservation_id, registered_at=self._registered_at()
                ),
            )
            await self._run(RELEASE_PLACES, request)

    async def use(self, settled_persons: int) -> None:
        if target := self._reservation():
            municipality, year, reservation_id = target
            request = PlacesRequest(
                municipality_number=municipality,
                year=year,
                use=UsePlaces(
                    reservation_id=reservation_id,
                    settled_persons=settled_persons,
                    registered_at=self._registered_at(),
                ),
            )
            await self._run(USE_PLACES, request)

    def _reservation(self) -> tuple[str, int, str] | None:
        """Municipality, year and id of the current reservation; none for a case allocated
        before the ledger existed."""
        s = self._state()
        if s.reservation_id is None or s.reservation_year is None or s.municipality_number is None:
            return None
        return s.municipality_number, s.reservation_year, s.reservation_id

    async def _run(self, activity_name: str, request: PlacesRequest) -> None:
        try:
            await workflow.execute_activity(
                activity_name,
                request,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PLACES_RETRY,
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type in (
                NO_PLACES_LEFT,
                INVALID_COMMAND,
            ):
                raise ApplicationError(
                    cause.message,
                    {"stage": self._state().stage.value},
                    type=cause.type,
                    non_retryable=True,
                ) from None
            raise
