"""Contracts between workflows and activities: activity names and their messages.

Workflows call activities by these names, so neither side imports the other."""

from pydantic import BaseModel, ConfigDict

from schemas.events import CaseEvent
from schemas.places import ReleasePlaces, ReservePlaces, UsePlaces

RECORD_CASE_EVENTS = "record_case_events"


class RecordCaseEvents(BaseModel):
    """Append events to the event log, all or none; an event id already there is skipped."""

    model_config = ConfigDict(frozen=True)

    events: list[CaseEvent]
    traceparent: str | None = None
    """The trace of the step that made these events (Command.traceparent), if any."""


class RecordCaseEventsResult(BaseModel):
    inserted: int


RESERVE_PLACES = "reserve_places"
RELEASE_PLACES = "release_places"
USE_PLACES = "use_places"

NO_PLACES_LEFT = "NoPlacesLeft"
"""Error type: the municipality has no decided places (left) for the reservation."""


class PlacesRequest(BaseModel):
    """Which municipality-year a places activity acts on, and what it asks."""

    model_config = ConfigDict(frozen=True)

    municipality_number: str
    year: int
    reserve: ReservePlaces | None = None
    release: ReleasePlaces | None = None
    use: UsePlaces | None = None
