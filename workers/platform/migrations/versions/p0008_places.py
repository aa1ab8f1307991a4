"""projection: a municipality's places in a year: requested, adjusted and decided as
versions, and the changes in places used and held

Filled from the places streams' events (PlacesRequested, PlacesRequestAdjusted,
PlacesDecided, PlacesTaken) from this revision on; decisions recorded before places were
events have none until they are recorded again, and places taken before count from the
next change only.

Revision ID: p0008
Revises: p0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "p0008"
down_revision = "p0007"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
VERSION_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projection_places_version",
        sa.Column("id", VERSION_ID, autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=True),
        sa.Column("requested_unaccompanied_minors", sa.Integer(), nullable=True),
        sa.Column("adjusted", sa.Integer(), nullable=True),
        sa.Column("decided", sa.Integer(), nullable=True),
        sa.Column("decided_unaccompanied_minors", sa.Integer(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.Column("superseded_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projection_places_version"),
    )
    op.create_index(
        "ix_projection_places_version_stream_id", "projection_places_version", ["stream_id"]
    )
    op.create_index("ix_projection_places_version_year", "projection_places_version", ["year"])
    op.create_table(
        "projection_places_taken",
        sa.Column("id", VERSION_ID, autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("municipality_number", sa.String(4), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("used_unaccompanied_minors", sa.Integer(), nullable=False),
        sa.Column("held_unaccompanied_minors", sa.Integer(), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projection_places_taken"),
    )
    op.create_index("ix_projection_places_taken_year", "projection_places_taken", ["year"])


def downgrade() -> None:
    op.drop_index("ix_projection_places_taken_year", table_name="projection_places_taken")
    op.drop_table("projection_places_taken")
    op.drop_index("ix_projection_places_version_year", table_name="projection_places_version")
    op.drop_index("ix_projection_places_version_stream_id", table_name="projection_places_version")
    op.drop_table("projection_places_version")
