"""projection: a stream remembers which event holds each of its latest positions

``seen`` keeps ``sequence:event-id-prefix`` of each stream's latest positions (and those
ahead of a gap), so that a record claiming a taken position with another event id is
dead-lettered instead of silently skipped, and ``ahead`` is unbounded text, so that no
record can make a stream row too long to store. Streams start remembering from their next
event.

Revision ID: p0006
Revises: p0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p0006"
down_revision = "p0005"
branch_labels = None
depends_on = None

TABLES = ("projection_stream", "feed_stream")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("ahead", type_=sa.Text(), existing_type=sa.String(400))
            batch.add_column(sa.Column("seen", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("seen")
            batch.alter_column("ahead", type_=sa.String(400), existing_type=sa.Text())
