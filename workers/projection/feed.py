"""The municipality feed: each municipality's events, as CloudEvents, in the order they came.

A consumer of the case-events topic (its own consumer group, in the projection process)
decides for every event which municipality it concerns and appends it to that municipality's
feed, exactly once (positions, stream positions and feed rows in one transaction). The feed
is then served two ways:

- over HTTP, ``GET /municipalities/{number}/events?after=<cursor>``, resumable from any
  cursor the caller kept (the API);
- on the Kafka topic ``bosetting.municipality-events.v1``, keyed by municipality number, by
  the same outbox relay that publishes the event log.

Which municipality: an event naming one (allocated, accepted, declined, withdrawn, settled,
planned, reply overdue, rights assessed) goes to it; other events of a case go to the
municipality it is allocated to, if any, and those of a person's qualification record to the
municipality that opened it; a municipality's places events (its council decision, IMDi's
request) go to it. A recommendation is not the recommended municipality's business
until it is allocated; the steps before allocation concern no municipality.

A protected-identity person's id never enters the feed: their entries in a household are
marked protected without an id, and their own qualification record's events have no subject.
Every entry of a household or record with a protected-identity person is itself marked
``protected``: where such an entry appears tells where the household lives, so it is served
over HTTP to cleared readers only and never put on the feed topic, whose consumers hold no
clearance. An uncleared reader's cursor passes over it as if it were not there.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import (
    ColumnElement,
    Table,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.envelope import KafkaRecord
from schemas.events import (
    PLACES_EVENTS,
    QUALIFICATION_EVENTS,
    AllocationDeclined,
    AllocationWithdrawn,
    CaseEvent,
    HouseholdMemberAdded,
    MunicipalityAllocated,
    MunicipalityRecommended,
    ResidencePermitGranted,
    RightsAssessed,
)
from workers.projection.batch import BatchResult, Located
from workers.projection.bulk import insert_rows
from workers.projection.store import FeedEvent, FeedStream
from workers.projection.streams import Mark, Row, Streams

SOURCE = "urn:bosetting:municipality-feed"
TYPE_PREFIX = "no.bosetting.municipality."
PROTECTED_SUBJECT = "protected"


def for_the_topic() -> ColumnElement[bool]:
    """The entries the relay still has to put on the feed topic: never a protected one."""
    return FeedEvent.published_at.is_(None) & FeedEvent.protected.is_(False)


def route(stream: Row, event: CaseEvent) -> str | None:
    """The municipality ``event`` goes to, updating what the stream remembers."""
    data = event.data
    if isinstance(data, ResidencePermitGranted):
        _protect(stream, *(p.person_id for p in data.persons if p.protected_identity))
        return None
    if isinstance(data, HouseholdMemberAdded) and data.protected_identity:
        _protect(stream, data.person_id)
    if isinstance(data, RightsAssessed):
        if data.protected_identity:
            _protect(stream, event.case_id)  # the stream id is the person id
        stream["household_protected"] = data.household_protected
        stream["municipality_number"] = data.municipality_number
        return data.municipality_number
    if isinstance(data, MunicipalityRecommended):
        return None
    if isinstance(data, MunicipalityAllocated):
        stream["municipality_number"] = data.municipality_number
        return data.municipality_number
    if isinstance(data, AllocationDeclined | AllocationWithdrawn):
        stream["municipality_number"] = None
        return data.municipality_number
    named: str | None = getattr(data, "municipality_number", None)
    municipality: str | None = stream["municipality_number"]
    return named or municipality


def _protect(stream: Row, *person_ids: str) -> None:
    ids = {*filter(None, stream["protected"].split(",")), *person_ids}
    stream["protected"] = ",".join(sorted(ids))


def feed_entry(stream: Row, event: CaseEvent, municipality: str) -> dict[str, Any]:
    """The event as the municipality's feed carries it: a structured CloudEvent."""
    protected = set(filter(None, stream["protected"].split(",")))
    qualification = isinstance(event.data, QUALIFICATION_EVENTS)
    subject = event.case_id
    if qualification and event.case_id in protected:
        subject = PROTECTED_SUBJECT
    data = _without(event.data.model_dump(mode="json"), protected)
    return {
        "specversion": "1.0",
        "id": str(event.event_id),
        "source": SOURCE,
        "type": f"{TYPE_PREFIX}{event.type}.v{event.schema_version}",
        "subject": subject,
        "time": event.recorded_at.isoformat(),
        "datacontenttype": "application/json",
        "municipalitynumber": municipality,
        "businessdate": event.business_date.isoformat(),
        "streamkind": "qualification"
        if qualification
        else "places"
        if isinstance(event.data, PLACES_EVENTS)
        else "case",
        "data": data,
    }


def _without(value: Any, protected: set[str]) -> Any:
    if isinstance(value, dict):
        if value.get("person_id") in protected:
            return {k: v for k, v in value.items() if k != "person_id"} | {
                "person_id": None,
                "protected_identity": True,
            }
        return {k: _without(v, protected) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, protected) for v in value]
    return value


async def apply_feed_events(
    session: AsyncSession, events: Located, result: BatchResult
) -> BatchResult:
    """The feed's part of a batch: dedupe by stream position, route, append."""
    streams = await Streams.load(
        session,
        cast(Table, FeedStream.__table__),
        {event.case_id for _, _, event in events},
        municipality_number=None,
        protected="",
        household_protected=False,
    )
    entries: list[Row] = []
    for partition, offset, event in events:
        mark = streams.mark_applied(event)
        result.count(mark, partition, offset)
        if mark is not Mark.NEW:
            continue
        stream = streams[event.case_id]
        municipality = route(stream, event)
        if municipality is None:
            continue
        entries.append(
            {
                "municipality_number": municipality,
                "event_id": event.event_id,
                "event_type": event.type,
                "recorded_at": event.recorded_at,
                "cloud_event": json.dumps(feed_entry(stream, event, municipality)),
                "published_at": None,
                "protected": bool(stream["protected"]) or stream["household_protected"],
            }
        )
    await streams.write(session)
    await insert_rows(session, cast(Table, FeedEvent.__table__), entries)
    return result


async def read_feed(
    sessions: async_sessionmaker[AsyncSession],
    municipality: str,
    after: int,
    limit: int,
    *,
    cleared: bool,
) -> Sequence[FeedEvent]:
    """A municipality's entries after the cursor; a reader who is not ``cleared`` never
    gets an entry of a household with a protected-identity person."""
    query = select(FeedEvent).where(
        FeedEvent.municipality_number == municipality, FeedEvent.position > after
    )
    if not cleared:
        query = query.where(FeedEvent.protected.is_(False))
    async with sessions() as session:
        rows = await session.scalars(query.order_by(FeedEvent.position).limit(limit))
        return rows.all()


def feed_record(row: FeedEvent) -> KafkaRecord:
    """A feed entry for the feed topic: binary-mode CloudEvent, keyed by municipality."""
    structured = json.loads(row.cloud_event)
    data = structured.pop("data")
    structured["time"] = datetime.fromisoformat(structured["time"])
    return KafkaRecord.binary(row.municipality_number, CloudEvent(attributes=structured, data=data))
