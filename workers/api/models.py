"""The API's own response models and the error answers each kind of operation documents."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel


class Accepted(BaseModel):
    case_id: str
    command_id: str


class Conflict(BaseModel):
    detail: str
    stage: str | None


class Problem(BaseModel):
    detail: str


class TimelineEntry(BaseModel):
    sequence: int
    type: str
    business_date: date
    """When it happened."""
    recorded_at: datetime
    """When the system learned of it."""
    data: dict[str, Any]


class Timeline(BaseModel):
    case_id: str
    view: str
    events: list[TimelineEntry]


class AuditEntry(BaseModel):
    at: datetime
    subject: str
    role: str
    scope: str | None
    action: str
    resource: str
    purpose: str
    outcome: str


class Feed(BaseModel):
    municipality_number: str
    events: list[dict[str, Any]]
    """CloudEvents 1.0 in structured JSON mode."""
    next_cursor: int


class Health(BaseModel):
    status: str


ERRORS: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Temporal is unavailable: retry, same key"},
    401: {"model": Problem, "description": "No token, or one that is not accepted"},
    403: {"model": Problem, "description": "The role may not do this"},
    404: {"model": Problem, "description": "No such case in your scope"},
    413: {"model": Problem, "description": "The body is larger than the limit"},
    429: {"model": Problem, "description": "Too many requests from this caller: see Retry-After"},
}
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": Problem, "description": "The body is not JSON"},
    409: {"model": Conflict, "description": "Out of order: the case's stage does not allow it"},
}
