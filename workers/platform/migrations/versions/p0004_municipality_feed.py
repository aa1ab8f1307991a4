"""projection: the municipality feed

Each municipality's events as CloudEvents (feed_event, the cursor is its position) and what
the feed remembers of each stream (feed_stream). The feed is a read model of the topic: a
new database starts empty and the feed's consumer group reads the topic from its start.

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


def upgrade() -> None:
    op.create_table(
        "feed_stream",
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("applied_through", sa.Integer(), nullable=False),
        sa.Column("ahead", sa.String(400), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=True),
        sa.Column("protected", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("stream_id", name="pk_feed_stream"),
    )
    op.create_table(
        "feed_event",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cloud_event", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("position", name="pk_feed_event"),
    )
    op.create_index("ix_feed_event_municipality", "feed_event", ["municipality_number", "position"])
    op.create_index(
        "ix_feed_event_unpublished",
        "feed_event",
        ["position"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("feed_event")
    op.drop_table("feed_stream")
