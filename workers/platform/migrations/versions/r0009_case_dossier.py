"""register: each case's personal details beside its events

What a read of the case needs that no event carries (birth dates, needs, education): written
with each step's events, so the case can be read after its workflow's history is gone. Filled
from the next step of each case on.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_dossier",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("through", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_dossier"),
    )


def downgrade() -> None:
    op.drop_table("case_dossier")
