"""projection: stored snapshots of official reports

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("projection_report_snapshot")
