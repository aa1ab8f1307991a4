"""The projection's fast insert writes exactly what SQLAlchemy's own insert writes."""

from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

from sqlalchemy import Table, insert, select, text

from workers.projection.bulk import insert_rows
from workers.projection.store import PersonWaitVersion

WAITS: Table = PersonWaitVersion.__table__  # type: ignore[assignment]
OSLO_WINTER = timezone(timedelta(hours=1))


def rows(prefix: str) -> list[dict]:
    """Repeated dates and times (what the fast path formats once), Nones, and two equal
    instants at different offsets."""
    permit = date(2020, 2, 29)
    at_utc = datetime(2020, 3, 1, 10, 0, tzinfo=UTC)
    same_instant_in_oslo = datetime(2020, 3, 1, 11, 0, tzinfo=OSLO_WINTER)
    assert at_utc == same_instant_in_oslo
    return [
        {
            "case_id": f"{prefix}-case",
            "person_id": f"{prefix}-p{i}",
            "event_id": uuid4(),
            "case_type": "reception",
            "protected_identity": i == 1,
            "permit_date": permit,
            "ready_on": None if i == 0 else date(2020, 3, 31),
            "arrived_on": None,
            "settled_on": None,
            "left_on": None,
            "recorded_at": recorded,
            "superseded_at": None if i < 2 else at_utc,
        }
        for i, recorded in enumerate([at_utc, same_instant_in_oslo, at_utc, same_instant_in_oslo])
    ]


async def test_fast_and_plain_inserts_store_the_same_values(projection_db):
    fast, plain = rows("fast"), rows("plain")
    async with projection_db.begin() as session:
        await insert_rows(session, WAITS, fast)
        await session.execute(insert(WAITS), plain)

    columns = [c for c in fast[0] if c not in ("case_id", "person_id", "event_id")]
    async with projection_db() as session:
        stored = {
            row.person_id: row
            for row in await session.execute(
                text(f"SELECT person_id, {', '.join(columns)} FROM {WAITS.name}")  # as stored
            )
        }
        read = {row.person_id: row for row in await session.execute(select(WAITS))}
    assert len(stored) == 8
    for i in range(4):
        f, p = stored[f"fast-p{i}"], stored[f"plain-p{i}"]
        assert tuple(f)[1:] == tuple(p)[1:], f"row {i}"
        assert read[f"fast-p{i}"].protected_identity is fast[i]["protected_identity"]
        assert read[f"fast-p{i}"].permit_date == date(2020, 2, 29)
    # One instant is one stored value, whatever offset it came with (SQLite included).
    assert stored["fast-p0"].recorded_at == stored["fast-p1"].recorded_at
    assert read["fast-p1"].recorded_at == fast[0]["recorded_at"]
    assert read["fast-p1"].recorded_at.utcoffset() == timedelta(0)
