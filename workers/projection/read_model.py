"""The figures' read model written from events: each event becomes new versions of the rows it
changes (settled persons, waits, qualification records, places), the old ones closed at the event's
recording time, so that any past moment can be read back ("as of"). The case register
(case_register.py) is written beside it, in the same transaction."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import CaseType, CorrectableStep
from schemas.events import (
    PLACES_EVENTS,
    QUALIFICATION_EVENTS,
    CaseEvent,
    CaseExited,
    CompetenceMappingRecorded,
    HouseholdMemberAdded,
    NorwegianTrainingCompleted,
    NorwegianTrainingExempted,
    NorwegianTrainingStarted,
    PermitDateCorrected,
    PersonSettled,
    PlacesDecided,
    PlacesRequestAdjusted,
    PlacesRequested,
    PlacesTaken,
    ProgrammeEnded,
    ProgrammeStarted,
    QualificationDeadlinesMoved,
    ResettlementArrived,
    ResidencePermitGranted,
    RightsAssessed,
    SettlementDateCorrected,
    SettlementInterviewHeld,
    StepDateCorrected,
)
from workers.projection.batch import BatchResult
from workers.projection.bulk import insert_rows
from workers.projection.case_register import CaseRegister
from workers.projection.store import (
    PersonWaitVersion,
    PlacesTakenChange,
    PlacesVersion,
    QualificationRecordVersion,
    SettledPersonVersion,
    StreamProgress,
)
from workers.projection.streams import Mark, Row, Streams


async def apply_events(
    session: AsyncSession, events: Sequence[tuple[int, int, CaseEvent]]
) -> BatchResult:
    """Apply already-read events, each with the (partition, offset) it is known by: the
    rebuild from the event log passes partition -1 and the log position."""
    return await apply_new_events(session, events, BatchResult())


async def apply_new_events(
    session: AsyncSession, fresh: Sequence[tuple[int, int, CaseEvent]], result: BatchResult
) -> BatchResult:
    """Skip events already applied (by their position in their stream), apply the rest to the
    figures' versions and to the case register, in the caller's transaction."""
    stream_ids = {event.case_id for _, _, event in fresh}
    batch = await _BatchState.load(session, stream_ids)
    register = await CaseRegister.load(session, stream_ids)
    for partition, offset, event in fresh:
        mark = batch.apply(event)
        if mark is Mark.NEW:
            register.apply(event)
        result.count(mark, partition, offset)
    await batch.write()
    await register.write(session)
    return result


class _BatchState:
    """What a batch's events touch, loaded in four queries and changed in memory: the streams'
    progress and the open versions of their persons and qualification records. Constant work
    per event, plain rows rather than ORM objects; the batch is written with one bulk
    statement per table and kind of change at the end."""

    def __init__(
        self,
        session: AsyncSession,
        streams: Streams,
        settled: dict[str, list[Row]],
        waits: dict[str, list[Row]],
        records: dict[str, list[Row]],
        places: dict[str, list[Row]],
    ) -> None:
        self._session = session
        self._streams = streams
        self._settled = settled
        self._waits = waits
        self._records = records
        self._places = places
        self._new: dict[type[Any], list[Row]] = {model: [] for model in _WRITTEN}
        self._closed: dict[type[Any], list[Row]] = {model: [] for model in _WRITTEN}

    @classmethod
    async def load(cls, session: AsyncSession, stream_ids: set[str]) -> "_BatchState":
        settled: dict[str, list[Row]] = {c: [] for c in stream_ids}
        waits: dict[str, list[Row]] = {c: [] for c in stream_ids}
        records: dict[str, list[Row]] = {c: [] for c in stream_ids}
        places: dict[str, list[Row]] = {c: [] for c in stream_ids}
        s, w = SettledPersonVersion.__table__, PersonWaitVersion.__table__
        q, p = QualificationRecordVersion.__table__, PlacesVersion.__table__
        streams = await Streams.load(
            session, cast(Table, StreamProgress.__table__), stream_ids, mapped_on=None
        )
        # A stream's versions are written in the transaction that first stores the stream,
        # so a stream met for the first time has none to load (catching up, most are new).
        ids = sorted(streams.stored)
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for row in await session.execute(
                select(s).where(s.c.case_id.in_(chunk), s.c.superseded_at.is_(None))
            ):
                settled[row.case_id].append(dict(row._mapping))
            for row in await session.execute(
                select(w).where(w.c.case_id.in_(chunk), w.c.superseded_at.is_(None))
            ):
                waits[row.case_id].append(dict(row._mapping))
            for row in await session.execute(
                select(q).where(q.c.person_id.in_(chunk), q.c.superseded_at.is_(None))
            ):
                records[row.person_id].append(dict(row._mapping))
            for row in await session.execute(
                select(p).where(p.c.stream_id.in_(chunk), p.c.superseded_at.is_(None))
            ):
                places[row.stream_id].append(dict(row._mapping))
        return cls(session, streams, settled, waits, records, places)

    async def write(self) -> None:
        await self._streams.write(self._session)
        for model in _WRITTEN:
            table = cast(Table, model.__table__)
            # Every row of a table has every column: one statement, many rows.
            await insert_rows(self._session, table, self._new[model])
            closed = [
                {"version_id": r["id"], "superseded_at": r["superseded_at"]}
                for r in self._closed[model]
            ]
            if closed:
                await self._session.execute(
                    update(table)
                    .where(table.c.id == bindparam("version_id"))
                    .values(superseded_at=bindparam("superseded_at")),
                    closed,
                )

    def apply(self, event: CaseEvent) -> Mark:
        """Apply one event if it is new to its stream."""
        mark = self._streams.mark_applied(event)
        if mark is not Mark.NEW:
            return mark
        if isinstance(event.data, QUALIFICATION_EVENTS):
            self._qualification(event)  # a person's record: its stream id is the person id
        elif isinstance(event.data, PLACES_EVENTS):
            self._places_event(event)
        else:
            self._case(self._streams[event.case_id], event)
        return mark

    def _case(self, case: Row, event: CaseEvent) -> None:
        self._waiting(event)
        data = event.data
        if isinstance(data, CompetenceMappingRecorded):
            if case["mapped_on"] is None or event.business_date < case["mapped_on"]:
                case["mapped_on"] = event.business_date
        elif (
            isinstance(data, StepDateCorrected) and data.step is CorrectableStep.COMPETENCE_MAPPING
        ):
            case["mapped_on"] = event.business_date
        elif isinstance(data, PersonSettled):
            self._open(
                SettledPersonVersion,
                self._settled,
                event,
                {
                    "case_id": event.case_id,
                    "person_id": data.person_id,
                    "category": data.category.value,
                    "protected_identity": data.protected_identity,
                    "household_protected": data.household_protected,
                    "case_type": data.case_type.value,
                    "settled_by": data.settled_by.value,
                    "municipality_number": data.municipality_number,
                    "reception_centre": data.reception_centre,
                    "permit_date": data.permit_date,
                    "settled_on": event.business_date,
                    "competence_mapped": case["mapped_on"] is not None
                    and case["mapped_on"] <= event.business_date,
                },
            )
        elif isinstance(data, PermitDateCorrected):
            # A correction changes the past: every figure the case's persons are in moves.
            # Members who joined later keep their own permit dates.
            self._supersede(
                SettledPersonVersion,
                self._settled,
                event,
                lambda v: v["permit_date"] == data.previous_date,
                {"permit_date": event.business_date},
            )
        elif isinstance(data, SettlementDateCorrected):
            self._supersede(
                SettledPersonVersion,
                self._settled,
                event,
                lambda v: v["person_id"] == data.person_id,
                {"settled_on": event.business_date},
            )

    def _qualification(self, event: CaseEvent) -> None:
        """A person's qualification record: its stream id is the person id."""
        data, day = event.data, event.business_date
        q = QualificationRecordVersion
        if isinstance(data, RightsAssessed):
            self._open(
                q,
                self._records,
                event,
                {
                    "person_id": event.case_id,
                    "case_id": data.case_id,
                    "municipality_number": data.municipality_number,
                    "case_type": data.case_type.value,
                    "rules": data.rules,
                    "programme_right": data.programme_right.value,
                    "norwegian_right": data.norwegian_right.value,
                    "settled_on": day,
                    "rights_start": data.rights_start,
                    "programme_started_on": None,
                    "programme_ended_on": None,
                    "main_activity": None,
                    "norwegian_started_on": None,
                    "norwegian_completed_on": None,
                    "norwegian_exempted_on": None,
                },
            )
            return
        change: Row | None = None
        if isinstance(data, QualificationDeadlinesMoved):
            change = {"settled_on": day, "rights_start": data.rights_start}
        elif isinstance(data, ProgrammeStarted):
            change = {"programme_started_on": day}
        elif isinstance(data, ProgrammeEnded):
            change = {"programme_ended_on": day, "main_activity": data.main_activity.value}
        elif isinstance(data, NorwegianTrainingStarted):
            change = {"norwegian_started_on": day}
        elif isinstance(data, NorwegianTrainingCompleted):
            change = {"norwegian_completed_on": day}
        elif isinstance(data, NorwegianTrainingExempted):
            change = {"norwegian_exempted_on": day}
        if change is not None:
            # A step whose opening event is missing has no version to change: nothing happens.
            self._supersede(q, self._records, event, lambda r: True, change)

    def _places_event(self, event: CaseEvent) -> None:
        """A municipality's places in a year: each event closes the version and opens the
        next with what it changed."""
        data = event.data
        change: Row
        if isinstance(data, PlacesRequested):
            change = {
                "requested": data.requested,
                "requested_unaccompanied_minors": data.requested_unaccompanied_minors,
            }
        elif isinstance(data, PlacesRequestAdjusted):
            change = {"adjusted": data.adjusted}
        elif isinstance(data, PlacesDecided):
            change = {
                "decided": data.decided,
                "decided_unaccompanied_minors": data.decided_unaccompanied_minors,
                "decided_on": event.business_date,
            }
        elif isinstance(data, PlacesTaken):
            self._new[PlacesTakenChange].append(
                {
                    "stream_id": event.case_id,
                    "event_id": event.event_id,
                    "municipality_number": data.municipality_number,
                    "year": data.year,
                    "used": data.used,
                    "held": data.held,
                    "used_unaccompanied_minors": data.used_unaccompanied_minors,
                    "held_unaccompanied_minors": data.held_unaccompanied_minors,
                    "recorded_at": event.recorded_at,
                }
            )
            return
        else:
            return
        if self._places.get(event.case_id):
            self._supersede(PlacesVersion, self._places, event, lambda r: True, change)
            return
        empty = dict.fromkeys(
            (
                "requested",
                "requested_unaccompanied_minors",
                "adjusted",
                "decided",
                "decided_unaccompanied_minors",
                "decided_on",
            )
        )
        self._open(
            PlacesVersion,
            self._places,
            event,
            {
                "stream_id": event.case_id,
                "municipality_number": data.municipality_number,
                "year": data.year,
            }
            | empty
            | change,
        )

    def _waiting(self, event: CaseEvent) -> None:
        """The persons on the way to settlement (stock figures): each event that moves one."""
        data, day = event.data, event.business_date
        w = PersonWaitVersion
        if isinstance(data, ResidencePermitGranted):
            resettlement = data.case_type is CaseType.RESETTLEMENT
            for person in data.persons:
                self._open(
                    w,
                    self._waits,
                    event,
                    _wait_row(
                        event.case_id,
                        person.person_id,
                        data.case_type.value,
                        person.protected_identity,
                        permit_date=day,
                        ready_on=day if resettlement else None,
                    ),
                )
        elif isinstance(data, HouseholdMemberAdded):
            household = self._waits.get(event.case_id)
            if not household:
                return
            ready = household[0]["ready_on"]
            self._open(
                w,
                self._waits,
                event,
                _wait_row(
                    event.case_id,
                    data.person_id,
                    household[0]["case_type"],
                    data.protected_identity,
                    permit_date=day,
                    ready_on=None if ready is None else max(ready, day),
                ),
            )
        elif isinstance(data, SettlementInterviewHeld):
            self._supersede(
                w,
                self._waits,
                event,
                lambda r: r["settled_on"] is None and r["ready_on"] is None,
                {"ready_on": day},
            )
        elif (
            isinstance(data, StepDateCorrected)
            and data.step is CorrectableStep.SETTLEMENT_INTERVIEW
        ):
            self._supersede(
                w,
                self._waits,
                event,
                lambda r: r["ready_on"] == data.previous_date,
                {"ready_on": day},
            )
        elif isinstance(data, PermitDateCorrected):
            resettled = CaseType.RESETTLEMENT.value
            self._supersede(
                w,
                self._waits,
                event,
                lambda r: r["permit_date"] == data.previous_date,
                lambda r: (
                    {"permit_date": day}
                    | ({"ready_on": day} if r["case_type"] == resettled else {})
                ),
            )
        elif isinstance(data, ResettlementArrived):
            self._supersede(
                w, self._waits, event, lambda r: r["settled_on"] is None, {"arrived_on": day}
            )
        elif isinstance(data, PersonSettled | SettlementDateCorrected):
            self._supersede(
                w,
                self._waits,
                event,
                lambda r: r["person_id"] == data.person_id,
                {"settled_on": day},
            )
        elif isinstance(data, CaseExited):
            self._supersede(
                w, self._waits, event, lambda r: r["settled_on"] is None, {"left_on": day}
            )

    def _open(
        self, model: type[Any], open_rows: dict[str, list[Row]], event: CaseEvent, row: Row
    ) -> None:
        row = row | {
            "event_id": event.event_id,
            "recorded_at": event.recorded_at,
            "superseded_at": None,
        }
        open_rows.setdefault(event.case_id, []).append(row)
        self._new[model].append(row)

    def _supersede(
        self,
        model: type[Any],
        open_rows: dict[str, list[Row]],
        event: CaseEvent,
        which: Callable[[Row], bool],
        changes: Row | Callable[[Row], Row],
    ) -> None:
        """Close the open versions an event changes and open their successors, so that what
        was known before stays readable as of then."""
        current = open_rows.setdefault(event.case_id, [])
        for i, row in enumerate(list(current)):
            if not which(row):
                continue
            row["superseded_at"] = event.recorded_at
            if "id" in row:  # stored before this batch; a row of this batch is inserted closed
                self._closed[model].append(row)
            successor = row | (changes(row) if callable(changes) else changes)
            successor.pop("id", None)  # its own id, from the database, and its own event
            successor.update(
                event_id=event.event_id, recorded_at=event.recorded_at, superseded_at=None
            )
            current[i] = successor
            self._new[model].append(successor)


# The tables a batch writes: versions opened and closed, and (places taken) rows that add up.
_WRITTEN = (
    SettledPersonVersion,
    PersonWaitVersion,
    QualificationRecordVersion,
    PlacesVersion,
    PlacesTakenChange,  # changes that add up: only ever inserted, never closed
)


def _wait_row(
    case_id: str,
    person_id: str,
    case_type: str,
    protected: bool,
    *,
    permit_date: date,
    ready_on: date | None,
) -> Row:
    return {
        "case_id": case_id,
        "person_id": person_id,
        "case_type": case_type,
        "protected_identity": protected,
        "permit_date": permit_date,
        "ready_on": ready_on,
        "arrived_on": None,
        "settled_on": None,
        "left_on": None,
    }
