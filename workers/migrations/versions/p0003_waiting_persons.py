"""projection: persons on the way to settlement, for the stock figures; rebuild

Revision ID: p0003
Revises: p0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "p0003"
down_revision = "p0002"
branch_labels = None
depends_on = None

_REBUILT = (
    "projection_settled_person_version",
    "projection_case",
    "projection_applied_event",
    "projection_position",
)


def upgrade() -> None:
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
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projection_person_wait_version"),
    )
    op.create_index(
        "ix_projection_person_wait_version_case_id", "projection_person_wait_version", ["case_id"]
    )
    # Rebuild: the new table needs every event from the start of the topic.
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_table("projection_person_wait_version")
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")
