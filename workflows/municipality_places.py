"""MunicipalityPlacesWorkflow: the places ledger of one municipality in one year.

An entity workflow, so that reserving is atomic: updates run one at a time against one
state, and a validator refuses a reservation that would exceed the decided places before
anything is written. Every handler is idempotent by its reservation or command id. The
ledger continues as new when Temporal suggests it, carrying its state.

What the council decided, and what IMDi requested and adjusted, are events
(``PlacesRequested``, ``PlacesDecided``, ``PlacesRequestAdjusted``) on the places stream of
the municipality and year, written to the event log like a case's, and so is what the
places are taken by (``PlacesTaken``: the change in used and held, as a reader without
clearance sees them): the read side and the dashboard show decided against used and held
places from them, as of any moment. A decision records an event for each part it changes,
so a repeated one records none; a reservation, release or use records one when it changes
the counts, behind the update (the main loop writes them in order, in batches), so an
allocation does not wait for it."""

import asyncio
from datetime import date, datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from schemas.errors import INVALID_COMMAND
    from schemas.events import (
        EventData,
        PlacesDecided,
        PlacesRequestAdjusted,
        PlacesRequested,
        PlacesTaken,
    )
    from schemas.places import (
        PlacesLedger,
        RecordPlacesDecision,
        ReleasePlaces,
        Reservation,
        ReservePlaces,
        TakenChange,
        UsePlaces,
        places_stream_id,
    )
    from schemas.ports import NO_PLACES_LEFT
    from workflows.patches import PLACES_EVENTS
    from workflows.recording import record_events


def decision_events(
    ledger: PlacesLedger, before: RecordPlacesDecision | None, after: RecordPlacesDecision
) -> list[tuple[date, EventData]]:
    """The events a decision records: one for each of request, adjustment and council
    decision that it changes (all that it carries, the first time)."""
    where = {"municipality_number": ledger.municipality_number, "year": ledger.year}
    day = after.decided_on
    events: list[tuple[date, EventData]] = []
    requested = (after.requested, after.requested_unaccompanied_minors)
    if before is None or requested != (before.requested, before.requested_unaccompanied_minors):
        events.append(
            (
                day,
                PlacesRequested(
                    **where,
                    requested=after.requested,
                    requested_unaccompanied_minors=after.requested_unaccompanied_minors,
                ),
            )
        )
    if after.adjusted != (None if before is None else before.adjusted):
        events.append((day, PlacesRequestAdjusted(**where, adjusted=after.adjusted)))
    decided = (after.decided, after.decided_unaccompanied_minors)
    if before is None or decided != (before.decided, before.decided_unaccompanied_minors):
        events.append(
            (
                day,
                PlacesDecided(
                    **where,
                    decided=after.decided,
                    decided_unaccompanied_minors=after.decided_unaccompanied_minors,
                ),
            )
        )
    return events


def _refuse(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


@workflow.defn
class MunicipalityPlacesWorkflow:
    @workflow.init
    def __init__(self, ledger: PlacesLedger) -> None:
        self._ledger = ledger
        self._recording = asyncio.Lock()  # one decision's events at a time, in order

    @workflow.run
    async def run(self, ledger: PlacesLedger) -> PlacesLedger:
        """Record what the updates changed in the places taken, in order and in batches,
        behind them; continue as new when Temporal suggests it (what is unrecorded goes
        along in the state)."""
        while True:
            await workflow.wait_condition(
                lambda: (
                    bool(self._ledger.unrecorded)
                    or (
                        workflow.info().is_continue_as_new_suggested()
                        and workflow.all_handlers_finished()
                    )
                )
            )
            if not self._ledger.unrecorded:
                break
            await self._record_taken()
        workflow.continue_as_new(self._ledger)

    @workflow.query
    def ledger(self) -> PlacesLedger:
        return self._ledger

    @workflow.update
    async def record_decision(self, decision: RecordPlacesDecision) -> PlacesLedger:
        ledger = self._ledger
        if not workflow.patched(PLACES_EVENTS):
            ledger.decision = decision
            return ledger
        if decision.command_id in ledger.decisions:
            return ledger  # recorded before: a retry, or an import run again
        # The state changes before any await, so a reservation validated after this sees it.
        before, ledger.decision = ledger.decision, decision
        ledger.decisions.append(decision.command_id)
        async with self._recording:
            events = decision_events(ledger, before, decision)
            if events:
                stream = places_stream_id(ledger.municipality_number, ledger.year)
                await record_events(
                    stream, ledger.last_sequence, events, registered_at=decision.registered_at
                )
                ledger.last_sequence += len(events)
        return ledger

    @record_decision.validator
    def _validate_decision(self, decision: RecordPlacesDecision) -> None:
        ledger = self._ledger
        if decision.command_id in ledger.decisions:
            return  # recorded before: answered as it is
        taken = ledger.used + ledger.held(False)
        if decision.decided < taken:
            raise _refuse(
                f"decided: {decision.decided} is below the {taken} places already used or held",
                INVALID_COMMAND,
            )
        taken_um = ledger.used_unaccompanied_minors + ledger.held(True)
        if decision.decided_unaccompanied_minors < taken_um:
            raise _refuse(
                f"decided_unaccompanied_minors: {decision.decided_unaccompanied_minors} is below "
                f"the {taken_um} places already used or held",
                INVALID_COMMAND,
            )

    @workflow.update
    def reserve(self, request: ReservePlaces) -> PlacesLedger:
        """Hold places; a repeat with more persons grows the reservation (a member joined the
        household), one with the same or fewer changes nothing."""
        before = self._ledger.visible_taken()
        reservation = self._ledger.reservations.get(request.reservation_id)
        if reservation is None:
            self._ledger.reservations[request.reservation_id] = Reservation(
                case_id=request.case_id,
                persons=request.persons,
                unaccompanied_minors=request.unaccompanied_minors,
                protected_identity=request.protected_identity,
            )
        elif not reservation.released:
            reservation.persons = max(reservation.persons, request.persons + reservation.used)
            # A protected member who joins marks the household's places as protected.
            reservation.protected_identity |= request.protected_identity
        self._note_taken(before, request.registered_at)
        return self._ledger

    @reserve.validator
    def _validate_reserve(self, request: ReservePlaces) -> None:
        ledger = self._ledger
        existing = ledger.reservations.get(request.reservation_id)
        minors = request.unaccompanied_minors if existing is None else existing.unaccompanied_minors
        wanted = request.persons - (0 if existing is None else existing.held)
        if wanted <= 0 or (existing is not None and existing.released):
            return
        kind = "unaccompanied-minor places" if minors else "places"
        if ledger.decision is None:
            raise _refuse(
                f"municipality {ledger.municipality_number} has decided no {kind} for "
                f"{ledger.year}",
                NO_PLACES_LEFT,
            )
        if wanted > ledger.left(minors):
            raise _refuse(
                # No counts: what is left includes the places of protected households, which
                # a caller without clearance must not be able to work out (access.py).
                f"allocation exceeds the {kind} left in {ledger.municipality_number} for "
                f"{ledger.year}",
                NO_PLACES_LEFT,
            )

    @workflow.update
    def release(self, request: ReleasePlaces) -> PlacesLedger:
        before = self._ledger.visible_taken()
        reservation = self._ledger.reservations.get(request.reservation_id)
        if reservation is not None:
            # Places already used stay used; only what is still held goes back.
            reservation.persons = reservation.used
            reservation.released = True
        self._note_taken(before, request.registered_at)
        return self._ledger

    @workflow.update
    def use(self, request: UsePlaces) -> PlacesLedger:
        """Never refused: a settlement is a fact, and the ledger records what happened even
        when it had no reservation for it (places used can exceed places decided)."""
        before = self._ledger.visible_taken()
        reservation = self._ledger.reservations.setdefault(
            request.reservation_id,
            Reservation(
                case_id=request.reservation_id.split("/", 1)[0], persons=request.settled_persons
            ),
        )
        newly = max(0, min(request.settled_persons, reservation.persons) - reservation.used)
        reservation.used += newly
        if reservation.unaccompanied_minors:
            self._ledger.used_unaccompanied_minors += newly
        else:
            self._ledger.used += newly
        self._note_taken(before, request.registered_at)
        return self._ledger

    def _note_taken(
        self, before: tuple[int, int, int, int], registered_at: datetime | None
    ) -> None:
        """Note what an update changed in the counts a reader without clearance sees (a
        protected household's places change nothing there), for the main loop to record as
        PlacesTaken: the update answers without waiting for the write."""
        if not workflow.patched(PLACES_EVENTS):
            return
        ledger = self._ledger
        change = [a - b for a, b in zip(ledger.visible_taken(), before, strict=True)]
        if not any(change):
            return
        now = workflow.now()
        ledger.unrecorded.append(
            TakenChange(
                on=min(registered_at or now, now).date(),
                used=change[0],
                held=change[1],
                used_unaccompanied_minors=change[2],
                held_unaccompanied_minors=change[3],
                registered_at=registered_at,
            )
        )

    async def _record_taken(self) -> None:
        """Record what is unrecorded, in one write, under the decisions' lock (one sequence)."""
        ledger = self._ledger
        async with self._recording:
            batch = list(ledger.unrecorded)
            where = {"municipality_number": ledger.municipality_number, "year": ledger.year}
            await record_events(
                places_stream_id(ledger.municipality_number, ledger.year),
                ledger.last_sequence,
                [
                    (
                        c.on,
                        PlacesTaken(
                            **where,
                            used=c.used,
                            held=c.held,
                            used_unaccompanied_minors=c.used_unaccompanied_minors,
                            held_unaccompanied_minors=c.held_unaccompanied_minors,
                        ),
                    )
                    for c in batch
                ],
                registered_each=[c.registered_at for c in batch],
            )
            ledger.last_sequence += len(batch)
            del ledger.unrecorded[: len(batch)]
