"""A batch of records read from a topic, and what applying it did."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.events import CaseEvent
from workers.projection.streams import Mark


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
