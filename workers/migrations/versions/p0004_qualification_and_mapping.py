"""projection: qualification records (bitemporal), and competence mapping for SP6; rebuild

Revision ID: p0004
Revises: p0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "p0004"
down_revision = "p0003"
branch_labels = None
depends_on = None

_REBUILT = (
    "projection_person_wait_version",
    "projection_settled_person_version",
    "projection_case",
    "projection_applied_event",
    "projection_position",
)


def upgrade() -> None:
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
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projection_qualification_version"),
    )
    op.create_index(
        "ix_projection_qualification_version_person_id",
        "projection_qualification_version",
        ["person_id"],
    )
    op.add_column("projection_case", sa.Column("mapped_on", sa.Date(), nullable=True))
    op.add_column(
        "projection_settled_person_version",
        sa.Column("competence_mapped", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    with op.batch_alter_table("projection_settled_person_version") as batch:
        batch.drop_column("competence_mapped")
    with op.batch_alter_table("projection_case") as batch:
        batch.drop_column("mapped_on")
    op.drop_table("projection_qualification_version")
    for table in _REBUILT:
        op.execute(f"DELETE FROM {table}")
