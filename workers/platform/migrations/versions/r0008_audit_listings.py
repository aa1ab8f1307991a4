"""register: a listing's audit row names the records it returned

A work-queue listing or a find-by-person is one read of several records: its row keeps, in
``returned``, the records it returned (``case/<id>`` or ``person/<id>``, space-separated),
so that "who read this case" finds the listings that showed it too.

Revision ID: r0008
Revises: r0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_read") as batch:
        batch.add_column(sa.Column("returned", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_read") as batch:
        batch.drop_column("returned")
