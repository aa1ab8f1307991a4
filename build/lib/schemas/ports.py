"""Contracts between workflows and activities: activity names and their messages.

Workflows call activities by these names, so neither side imports the other."""

from pydantic import BaseModel, ConfigDict

from .events import CaseEvent

RECORD_CASE_EVENTS = "record_case_events"


class RecordCaseEvents(BaseModel):
    """Append events to the event log, all or none; an event id already there is skipped."""

    model_config = ConfigDict(frozen=True)

    events: list[CaseEvent]


class RecordCaseEventsResult(BaseModel):
    inserted: int
