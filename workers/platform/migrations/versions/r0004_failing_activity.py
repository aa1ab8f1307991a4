"""register: activities that keep failing (for the monitor)

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failing_activity",
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("activity_id", sa.String(255), nullable=False),
        sa.Column("activity_type", sa.String(128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(128), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", "activity_id", name="pk_failing_activity"),
    )


def downgrade() -> None:
    op.drop_table("failing_activity")
