"""projection: a row per stream instead of a row per applied event; version ids from the database

The projection wrote a dedupe row per event and a random UUID per version, which made every
event cost several index insertions at random places. Streams now record which of their
positions are applied (projection_stream replaces projection_case and
projection_applied_event; of the case it keeps only what a figure reads, the competence
mapping), and versions take ascending ids from the database. Consumer
positions get a version, bumped by every batch, so that two consumers applying the same
partition during a rebalance cannot both commit.

The read model is rebuildable, so the migration recreates it empty and forgets the consumer
positions: on its next start the projection reads the topic from the beginning (or
`bosetting rebuild-projection` reads the event log).

Revision ID: p0003
Revises: p0002
Create Date: 2026-12-01
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_VERSIONS = (
    "projection_settled_person_version",
    "projection_person_wait_version",
    "projection_qualification_version",
)

IdColumn = Callable[[], sa.Column[object]]


def _serial_id() -> sa.Column[object]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _uuid_id() -> sa.Column[object]:
    return sa.Column("id", sa.Uuid(), nullable=False)


def _versioned() -> tuple[sa.Column[object], sa.Column[object]]:
    return (
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
    )


def _create_versions(id_column: IdColumn) -> None:
    op.create_table(
        "projection_settled_person_version",
        id_column(),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("protected_identity", sa.Boolean(), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("settled_by", sa.String(16), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("reception_centre", sa.String(32), nullable=True),
        sa.Column("permit_date", sa.Date(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("competence_mapped", sa.Boolean(), nullable=False),
        *_versioned(),
        sa.PrimaryKeyConstraint("id", name="pk_projection_settled_person_version"),
    )
    op.create_index(
        "ix_projection_settled_person_version_settled_on",
        "projection_settled_person_version",
        ["settled_on"],
    )
    op.create_index(
        "ix_projection_settled_person_version_person",
        "projection_settled_person_version",
        ["case_id", "person_id"],
    )
    op.create_table(
        "projection_person_wait_version",
        id_column(),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("protected_identity", sa.Boolean(), nullable=False),
        sa.Column("permit_date", sa.Date(), nullable=False),
        sa.Column("ready_on", sa.Date(), nullable=True),
        sa.Column("arrived_on", sa.Date(), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        *_versioned(),
        sa.PrimaryKeyConstraint("id", name="pk_projection_person_wait_version"),
    )
    op.create_index(
        "ix_projection_person_wait_version_case_id", "projection_person_wait_version", ["case_id"]
    )
    op.create_table(
        "projection_qualification_version",
        id_column(),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("rules", sa.String(32), nullable=False),
        sa.Column("programme_right", sa.String(32), nullable=False),
        sa.Column("norwegian_right", sa.String(32), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("rights_start", sa.Date(), nullable=False),
        sa.Column("programme_started_on", sa.Date(), nullable=True),
        sa.Column("programme_ended_on", sa.Date(), nullable=True),
        sa.Column("main_activity", sa.String(32), nullable=True),
        sa.Column("norwegian_started_on", sa.Date(), nullable=True),
        sa.Column("norwegian_completed_on", sa.Date(), nullable=True),
        sa.Column("norwegian_exempted_on", sa.Date(), nullable=True),
        *_versioned(),
        sa.PrimaryKeyConstraint("id", name="pk_projection_qualification_version"),
    )
    op.create_index(
        "ix_projection_qualification_version_person_id",
        "projection_qualification_version",
        ["person_id"],
    )


def upgrade() -> None:
    for table in _VERSIONS:
        op.drop_table(table)
    op.drop_table("projection_case")
    op.drop_table("projection_applied_event")
    op.create_table(
        "projection_stream",
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("applied_through", sa.Integer(), nullable=False),
        sa.Column("ahead", sa.String(400), nullable=False),
        sa.Column("mapped_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("stream_id", name="pk_projection_stream"),
    )
    _create_versions(_serial_id)
    op.execute("DELETE FROM projection_position")
    with op.batch_alter_table("projection_position") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False))


def downgrade() -> None:
    for table in _VERSIONS:
        op.drop_table(table)
    op.drop_table("projection_stream")
    op.create_table(
        "projection_applied_event",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_projection_applied_event"),
    )
    op.create_table(
        "projection_case",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=True),
        sa.Column("permit_date", sa.Date(), nullable=True),
        sa.Column("last_event_type", sa.String(64), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("settled_persons", sa.Integer(), nullable=False),
        sa.Column("mapped_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_projection_case"),
    )
    _create_versions(_uuid_id)
    op.execute("DELETE FROM projection_position")
    with op.batch_alter_table("projection_position") as batch:
        batch.drop_column("version")
