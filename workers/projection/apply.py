"""Applying a batch of Kafka records to the read model, exactly once.

The batch's rows, its consumer positions and which events it applied are written in one
transaction. A redelivered offset is skipped by partition position, a re-published event (new
offset, same place in its stream) by stream position, and an unreadable record goes to the
dead-letter table; all three still advance the partition position, so nothing blocks the
partition and nothing is counted twice.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import CaseType, CorrectableStep
from schemas.envelope import EnvelopeError, from_kafka
from schemas.events import (
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
from workers.projection.bulk import insert_rows
from workers.projection.store import (
    ConsumerPosition,
    DeadLetter,
    PersonWaitVersion,
    QualificationRecordVersion,
    SettledPersonVersion,
    StreamProgress,
)


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes]]
    value: bytes


@dataclass
class BatchResult:
    applied: int = 0
    skipped_offsets: int = 0
    duplicate_events: int = 0
    dead_letters: int = 0
    refused: list[tuple[int, int, str]] = field(default_factory=list)
    """Readable events a stream would not take, (partition, offset, why): dead-lettered."""

    def add(self, other: "BatchResult") -> "BatchResult":
        return BatchResult(
            self.applied + other.applied,
            self.skipped_offsets + other.skipped_offsets,
            self.duplicate_events + other.duplicate_events,
            self.dead_letters + other.dead_letters,
            self.refused + other.refused,
        )

    def count(self, mark: "Mark", partition: int, offset: int) -> None:
        if mark is Mark.NEW:
            self.applied += 1
        elif mark is Mark.SEEN:
            self.duplicate_events += 1
        else:
            self.refused.append((partition, offset, mark.value))


Located = Sequence[tuple[int, int, CaseEvent]]
"""Events with the (partition, offset) they were read at."""
EventsApplier = Callable[[AsyncSession, Located, BatchResult], Awaitable[BatchResult]]
"""What a read model does with a batch's readable, new-to-this-partition events."""


async def apply_batch(
    session: AsyncSession,
    consumer: str,
    topic: str,
    records: Sequence[Record],
    high_water: dict[int, int],
    apply: EventsApplier | None = None,
) -> BatchResult:
    """Skip what this consumer's positions say it has read, dead-letter what cannot be read,
    and hand the rest to ``apply`` (the projection's figures by default; the municipality
    feed has its own) in the same transaction as the new positions."""
    result = BatchResult()
    now = datetime.now(UTC)
    positions = {
        p.partition: p
        for p in (
            await session.scalars(
                select(ConsumerPosition).where(
                    ConsumerPosition.consumer == consumer, ConsumerPosition.topic == topic
                )
            )
        ).all()
    }
    fresh: list[tuple[Record, CaseEvent]] = []
    for record in records:
        position = positions.get(record.partition)
        if position is not None and record.offset < position.next_offset:
            result.skipped_offsets += 1
            continue
        if position is None:
            position = _first_position(session, consumer, topic, record.partition, now)
            positions[record.partition] = position
        position.next_offset = record.offset + 1
        position.updated_at = now
        try:
            fresh.append((record, from_kafka(list(record.headers), record.value)))
        except EnvelopeError as exc:
            result.dead_letters += 1
            session.add(dead_letter(topic, record, str(exc), now))
    for partition, mark in high_water.items():
        if partition in positions:
            positions[partition].high_water = max(mark, positions[partition].next_offset)

    located = [(record.partition, record.offset, event) for record, event in fresh]
    result = await (apply or _apply_events)(session, located, result)
    if not result.refused:
        return result
    by_place = {(record.partition, record.offset): record for record, _ in fresh}
    for partition, offset, why in result.refused:
        result.dead_letters += 1
        session.add(dead_letter(topic, by_place[partition, offset], why, now))
    return result


async def set_aside(
    session: AsyncSession, consumer: str, topic: str, record: Record, error: str
) -> BatchResult:
    """Dead-letter a record without applying it, and move the position past it."""
    now = datetime.now(UTC)
    position = await session.get(ConsumerPosition, (consumer, topic, record.partition))
    if position is None:
        position = _first_position(session, consumer, topic, record.partition, now)
    if record.offset < position.next_offset:
        return BatchResult(skipped_offsets=1)
    position.next_offset, position.updated_at = record.offset + 1, now
    session.add(dead_letter(topic, record, error, now))
    return BatchResult(dead_letters=1)


def _first_position(
    session: AsyncSession, consumer: str, topic: str, partition: int, now: datetime
) -> ConsumerPosition:
    """A partition this consumer has never read: it starts at offset 0."""
    position = ConsumerPosition(
        consumer=consumer,
        topic=topic,
        partition=partition,
        next_offset=0,
        high_water=0,
        updated_at=now,
    )
    session.add(position)
    return position


LETTER_BYTES = 65_536
"""A dead letter keeps at most this much of a record's value and headers."""


def dead_letter(topic: str, record: Record, error: str, now: datetime) -> DeadLetter:
    """A record for a human to look at, with its coordinates; bounded in size whatever came."""
    headers = json.dumps({k[:200]: v[:LETTER_BYTES].hex() for k, v in record.headers[:64]})
    cut = len(record.value) > LETTER_BYTES or len(headers) > 2 * LETTER_BYTES
    return DeadLetter(
        topic=topic,
        partition=record.partition,
        offset=record.offset,
        error=(error + (" (kept in part: too large)" if cut else ""))[:2000],
        headers=headers[: 2 * LETTER_BYTES],
        value=record.value[:LETTER_BYTES],
        received_at=now,
    )


async def apply_events(
    session: AsyncSession, events: Sequence[tuple[int, int, CaseEvent]]
) -> BatchResult:
    """Apply already-read events, each with the (partition, offset) it is known by: the
    rebuild from the event log passes partition -1 and the log position."""
    return await _apply_events(session, events, BatchResult())


async def _apply_events(
    session: AsyncSession, fresh: Sequence[tuple[int, int, CaseEvent]], result: BatchResult
) -> BatchResult:
    """Skip events already applied (by their position in their stream), apply the rest."""
    batch = await _BatchState.load(session, {event.case_id for _, _, event in fresh})
    for partition, offset, event in fresh:
        mark = batch.apply(event)
        result.count(mark, partition, offset)
    await batch.write()
    return result


Row = dict[str, Any]
"""A row in memory: column name to value."""


def _ahead(row: Row) -> list[int]:
    return [int(n) for n in row["ahead"].split(",")] if row["ahead"] else []


class Mark(Enum):
    """What a stream says to an event at its position."""

    NEW = "new"
    """Not applied before: apply it."""
    SEEN = "seen"
    """This very event was applied already (a redelivery or a re-publication): skip it."""
    TAKEN = "sequence: the stream's position is held by another event"
    """Another event id holds the position: a forged or corrupt record, or a bug. Loud: it
    is dead-lettered (and the monitor alerts on dead letters), never silently skipped."""
    MOVED = "sequence: the event is applied already, at another position of its stream"
    """The same event id at a second position: a tampered copy; dead-lettered."""
    CROWDED = "sequence: too far ahead of a gap in its stream"
    """More events wait beyond a gap than any real redelivery makes: dead-lettered."""


RECENT = 16
"""Positions up to ``applied_through`` whose event ids a stream remembers (``seen``), beside
every position ahead of a gap: an event claiming one of them with another id is TAKEN. The
next event of a stream comes right after a forged one in its partition, so the window need
not be long; an older position's claimant is skipped as before."""
MAX_AHEAD = 64


def _seen(row: Row) -> dict[int, str]:
    pairs = (entry.split(":") for entry in row.get("seen", "").split(",") if entry)
    return {int(sequence): fingerprint for sequence, fingerprint in pairs}


def _seen_text(seen: dict[int, str], row: Row) -> str:
    """``seen`` as stored: the latest positions' and those ahead of a gap, the rest forgotten."""
    through, ahead = row["applied_through"], set(_ahead(row))
    return ",".join(
        f"{n}:{f}" for n, f in sorted(seen.items()) if n > through - RECENT or n in ahead
    )


def mark_applied(row: Row, sequence: int, event_id: UUID, seen: dict[int, str]) -> Mark:
    """Record that the stream's event at ``sequence`` is applied, unless it was already, or
    its position is another event's. ``seen`` is the stream's (parsed) ``seen``, kept up to
    date here and written back once a batch (``_seen_text``)."""
    through, ahead = row["applied_through"], _ahead(row)
    fingerprint = event_id.hex[:16]
    if sequence <= through or sequence in ahead:
        known = seen.get(sequence)
        return Mark.TAKEN if known is not None and known != fingerprint else Mark.SEEN
    if fingerprint in seen.values():
        return Mark.MOVED
    if sequence == through + 1:
        through = sequence
        while through + 1 in ahead:
            through += 1
        ahead = [n for n in ahead if n > through]
    elif len(ahead) >= MAX_AHEAD:
        return Mark.CROWDED
    else:
        ahead = sorted([*ahead, sequence])
    seen[sequence] = fingerprint
    row["applied_through"], row["ahead"] = through, ",".join(map(str, ahead))
    return Mark.NEW


class Streams:
    """A batch's stream rows: which events of each stream this consumer applied
    (``applied_through``, ``ahead``), plus the consumer's own columns (``extra``, with their
    starting values). Loaded in one query per 500 ids, written back in two statements."""

    def __init__(self, table: Table, rows: dict[str, Row], stored: set[str]) -> None:
        self._table = table
        self._rows = rows
        self._stored = stored
        self._touched: set[str] = set()
        self._seen: dict[str, dict[int, str]] = {}
        """Each stream's ``seen``, parsed once a batch."""

    @classmethod
    async def load(
        cls, session: AsyncSession, table: Table, stream_ids: set[str], **extra: Any
    ) -> "Streams":
        ids = sorted(stream_ids)
        rows: dict[str, Row] = {}
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            for row in await session.execute(select(table).where(table.c.stream_id.in_(chunk))):
                rows[row.stream_id] = dict(row._mapping)
        stored = set(rows)
        for stream_id in stream_ids - stored:
            rows[stream_id] = {
                "stream_id": stream_id,
                "applied_through": 0,
                "ahead": "",
                "seen": "",
            } | extra
        return cls(table, rows, stored)

    def __getitem__(self, stream_id: str) -> Row:
        return self._rows[stream_id]

    @property
    def stored(self) -> set[str]:
        """The streams this consumer has applied events of before this batch."""
        return self._stored

    def mark_applied(self, event: CaseEvent) -> Mark:
        """Whether the event is new to its stream (and if so, it is now applied)."""
        row = self._rows[event.case_id]
        seen = self._seen.get(event.case_id)
        if seen is None:
            seen = self._seen[event.case_id] = _seen(row)
        mark = mark_applied(row, event.sequence, event.event_id, seen)
        if mark is Mark.NEW:
            self._touched.add(event.case_id)
        return mark

    async def write(self, session: AsyncSession) -> None:
        for key in self._touched:
            self._rows[key]["seen"] = _seen_text(self._seen[key], self._rows[key])
        new = [row for key, row in self._rows.items() if key not in self._stored]
        await insert_rows(session, self._table, new)
        changed = [
            {"key": key} | {k: v for k, v in self._rows[key].items() if k != "stream_id"}
            for key in sorted(self._touched & self._stored)
        ]
        if changed:
            columns = [k for k in changed[0] if k != "key"]
            await session.execute(
                update(self._table)
                .where(self._table.c.stream_id == bindparam("key"))
                .values({k: bindparam(k) for k in columns}),
                changed,
            )


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
    ) -> None:
        self._session = session
        self._streams = streams
        self._settled = settled
        self._waits = waits
        self._records = records
        self._new: dict[type[Any], list[Row]] = {model: [] for model in _VERSIONED}
        self._closed: dict[type[Any], list[Row]] = {model: [] for model in _VERSIONED}

    @classmethod
    async def load(cls, session: AsyncSession, stream_ids: set[str]) -> "_BatchState":
        settled: dict[str, list[Row]] = {c: [] for c in stream_ids}
        waits: dict[str, list[Row]] = {c: [] for c in stream_ids}
        records: dict[str, list[Row]] = {c: [] for c in stream_ids}
        s, w = SettledPersonVersion.__table__, PersonWaitVersion.__table__
        q = QualificationRecordVersion.__table__
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
        return cls(session, streams, settled, waits, records)

    async def write(self) -> None:
        await self._streams.write(self._session)
        for model in _VERSIONED:
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


_VERSIONED = (SettledPersonVersion, PersonWaitVersion, QualificationRecordVersion)


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
