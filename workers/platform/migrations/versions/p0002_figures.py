"""projection: the official figures' read model; the projection rebuilds

Settled persons become bitemporal versions (recorded_at, superseded_at) carrying the settling
authority, reception centre and competence mapping; persons on the way to settlement and
adults' qualification records are kept as versions too; cases remember their competence
mapping; official reports are stored as snapshots. The read model is rebuildable, so the
migration empties it and forgets the consumer positions: on its next start the projection
reads the topic from the beginning (or `bosetting rebuild-projection` reads the event log).

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def _versioned() -> tuple[sa.Column[object], sa.Column[object]]:
    """When a version became the truth, and when it stopped being it."""
    return (
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
    )


_REBUILT = ("projection_case", "projection_applied_event", "projection_position")


def upgrade() -> None:
    op.drop_table("projection_settled_person")
    op.create_table(
        "projection_settled_person_version",
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.Column("id", sa.Uuid(), nullable=False),
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
        sa.Column("id", sa.Uuid(), nullable=False),
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
    op.create_table(
        "projection_report_snapshot",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_projection_report_snapshot"),
    )
    op.add_column("projection_case", sa.Column("mapped_on", sa.Date(), nullable=True))
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    for table in (
        "projection_report_snapshot",
        "projection_qualification_version",
        "projection_person_wait_version",
        "projection_settled_person_version",
    ):
        op.drop_table(table)
    with op.batch_alter_table("projection_case") as batch:
        batch.drop_column("mapped_on")
    op.create_table(
        "projection_settled_person",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("protected_identity", sa.Boolean(), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("permit_date", sa.Date(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "person_id", name="pk_projection_settled_person"),
    )
    op.create_index(
        "ix_projection_settled_person_settled_on", "projection_settled_person", ["settled_on"]
    )
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")
