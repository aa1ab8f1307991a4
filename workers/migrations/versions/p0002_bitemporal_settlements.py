"""projection: settled persons as bitemporal versions; the projection rebuilds

The settled-person table becomes a table of versions (recorded_at, superseded_at) carrying
the settling authority and reception centre besides. The read model is rebuildable, so the
migration empties it and forgets the consumer positions: on its next start the projection
reads the topic from the beginning and every figure is computed again.

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
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
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
    # Rebuild: the new facts need every event again.
    op.execute("DELETE FROM projection_case")
    op.execute("DELETE FROM projection_applied_event")
    op.execute("DELETE FROM projection_position")


def downgrade() -> None:
    op.drop_table("projection_settled_person_version")
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
    op.execute("DELETE FROM projection_case")
    op.execute("DELETE FROM projection_applied_event")
    op.execute("DELETE FROM projection_position")
