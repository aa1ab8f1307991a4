"""The places ledger of one municipality and year (kommunalt vedtak om bosetting).

A municipal council decides how many refugees it will settle in a year, with unaccompanied
minors counted apart (domain.md §2.1, C4). Allocation reserves places, a decline or
withdrawal releases them, and settlement uses them."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.calendar import BusinessDate, RecordedMoment
from schemas.ids import CaseId, CommandId, MunicipalityNumber

ReservationId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class PlacesDecisionNumbers(BaseModel):
    """What a decision says, with its rules: the command's and an imported line's fields."""

    decided_on: BusinessDate
    requested: int = Field(ge=0)
    """Refugees IMDi asked the municipality to settle (anmodning)."""
    adjusted: int | None = Field(None, ge=0)
    """The adjusted request, if any; no new council decision is needed (SEED L1428)."""
    decided: int = Field(ge=0)
    """Places the council decided (vedtaksplasser), unaccompanied minors excluded."""
    requested_unaccompanied_minors: int = Field(0, ge=0)
    decided_unaccompanied_minors: int = Field(0, ge=0)


class RecordPlacesDecision(PlacesDecisionNumbers):
    """The council's decision, or a later adjusted request (justert anmodning)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    command_id: CommandId
    registered_at: RecordedMoment | None = None
    """When the register it was imported from registered it (set by the import, never by an
    API body): its events keep that as their recording time."""


class ReservePlaces(BaseModel):
    """Hold places for the unsettled members of a household allocated to the municipality.
    Repeated with more persons (a member joined), it grows the reservation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reservation_id: ReservationId
    case_id: CaseId
    persons: int = Field(ge=1)
    unaccompanied_minors: bool = False
    """An unaccompanied minors' household draws on the minors' places, not the others."""
    protected_identity: bool = False
    """A member has a protected identity: the places are counted for readers who are not
    cleared in no municipality (see :meth:`PlacesLedger.without_protected`)."""
    registered_at: RecordedMoment | None = None
    """An imported step's registration time (Command.registered_at), for the ledger's event."""


class ReleasePlaces(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reservation_id: ReservationId
    registered_at: RecordedMoment | None = None


class UsePlaces(BaseModel):
    """Settled persons turn part of a reservation into used places. The count is the total
    settled so far under the reservation, not an increment, so a retry changes nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reservation_id: ReservationId
    settled_persons: int = Field(ge=1)
    registered_at: RecordedMoment | None = None


class Reservation(BaseModel):
    case_id: CaseId
    persons: int
    used: int = 0
    unaccompanied_minors: bool = False
    released: bool = False
    """Released by a decline, withdrawal or exit: a late repeat of its reserve holds nothing."""
    protected_identity: bool = False

    @property
    def held(self) -> int:
        return self.persons - self.used


class TakenChange(BaseModel):
    """A change in the places taken (used, held) that the ledger has yet to record as a
    PlacesTaken event: recorded behind the update that made it, in order."""

    on: BusinessDate
    used: int
    held: int
    used_unaccompanied_minors: int
    held_unaccompanied_minors: int
    registered_at: RecordedMoment | None = None


class PlacesLedger(BaseModel):
    municipality_number: MunicipalityNumber
    year: int
    decision: RecordPlacesDecision | None = None
    reservations: dict[ReservationId, Reservation] = {}
    used: int = 0
    used_unaccompanied_minors: int = 0
    last_sequence: int = 0
    """The last event of the places stream (places_stream_id) the ledger has recorded."""
    unrecorded: list[TakenChange] = []
    """Changes in the places taken not yet in the event log (the ledger records them behind
    its updates, so that a reservation does not wait for the write)."""
    decisions: list[CommandId] = []
    """The command ids of the decisions recorded: a repeated one changes nothing (an import
    run again replays its decisions in order, and must not record them twice)."""

    def held(self, unaccompanied_minors: bool) -> int:
        return sum(
            r.held
            for r in self.reservations.values()
            if r.unaccompanied_minors == unaccompanied_minors
        )

    @property
    def reserved(self) -> int:
        return self.held(False) + self.held(True)

    def without_protected(self) -> "PlacesLedger":
        """The ledger as a reader without clearance sees it: the places of households with
        a protected-identity member neither used nor held here, as the waiting-time figures
        count such persons in no municipality. Otherwise the difference between the two
        would tell where a protected person lives. What they hold counts as left."""
        hidden = [r for r in self.reservations.values() if r.protected_identity]
        if not hidden:
            return self
        return self.model_copy(
            update={
                "reservations": {
                    k: r for k, r in self.reservations.items() if not r.protected_identity
                },
                "used": self.used - sum(r.used for r in hidden if not r.unaccompanied_minors),
                "used_unaccompanied_minors": self.used_unaccompanied_minors
                - sum(r.used for r in hidden if r.unaccompanied_minors),
            }
        )

    def visible_taken(self) -> tuple[int, int, int, int]:
        """Used, held, used by and held for unaccompanied minors, as a reader without
        clearance sees them (what PlacesTaken counts)."""
        visible = self.without_protected()
        return (
            visible.used,
            visible.held(False),
            visible.used_unaccompanied_minors,
            visible.held(True),
        )

    def left(self, unaccompanied_minors: bool) -> int:
        """Decided places neither used nor held by a reservation."""
        if self.decision is None:
            return 0
        if unaccompanied_minors:
            return (
                self.decision.decided_unaccompanied_minors
                - self.used_unaccompanied_minors
                - self.held(True)
            )
        return self.decision.decided - self.used - self.held(False)


def reservation_id_for(case_id: str, allocation_command_id: str) -> str:
    """The reservation an allocation makes: one per allocation command, so a retried or
    repeated allocation never reserves twice, and anyone can ask the ledger whether it has."""
    return f"{case_id}/{allocation_command_id}"


def places_stream_id(municipality_number: str, year: int) -> str:
    """The event stream of a municipality's places in a year (PLACES_EVENTS)."""
    return f"places-{municipality_number}-{year}"


def places_workflow_id(municipality_number: str, year: int) -> str:
    return f"municipality-places/{municipality_number}/{year}"
