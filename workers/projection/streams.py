"""Stream dedupe: which events of each stream (a case, a person's qualification record) a
consumer has applied, by their position in the stream. A redelivered or re-published event is
skipped; an event claiming a position another event holds is refused, loudly."""

from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.events import CaseEvent
from workers.projection.bulk import insert_rows

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
