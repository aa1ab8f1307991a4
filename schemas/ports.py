"""Contracts between workflows and activities: activity names and their messages.

Workflows call activities by these names, so neither side imports the other."""

from pydantic import BaseModel, ConfigDict

from schemas.commands import PersonRecord
from schemas.enums import EducationLevel, ServiceNeed
from schemas.events import CaseEvent
from schemas.places import ReleasePlaces, ReservePlaces, UsePlaces

RECORD_CASE_EVENTS = "record_case_events"


class CaseDossier(BaseModel):
    """The household's personal details as the case holds them: kept in the register database
    beside its events (never on Kafka), so that the case can be read after its workflow's
    history is gone. Written with each step's events; the newest (by ``through``) wins."""

    model_config = ConfigDict(frozen=True)

    through: int
    """The sequence of the last event this dossier reflects."""
    persons: list[PersonRecord]
    reception_centre: str | None = None
    dossier: bool = False
    education_level: EducationLevel | None = None
    close_family_municipality: str | None = None
    service_needs: list[ServiceNeed] = []


class RecordCaseEvents(BaseModel):
    """Append events to the event log, all or none; an event id already there is skipped."""

    model_config = ConfigDict(frozen=True)

    events: list[CaseEvent]
    traceparent: str | None = None
    """The trace of the step that made these events (Command.traceparent), if any."""
    dossier: CaseDossier | None = None
    """A case's personal details after these events (qualification records send none)."""


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
