"""projection: positions, dedupe, case progress, settled persons, dead letters

Revision ID: p0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "p0001"
down_revision = None
branch_labels = ("projection",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "projection_position",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("next_offset", sa.BigInteger(), nullable=False),
        sa.Column("high_water", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "topic", "partition", name="pk_projection_position"),
    )
    op.create_table(
        "projection_applied_event",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_projection_applied_event"),
    )
    op.create_table(
        "projection_case",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=True),
        sa.Column("permit_date", sa.Date(), nullable=True),
        sa.Column("last_event_type", sa.String(64), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("settled_persons", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_projection_case"),
    )
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
    op.create_index(
        "ix_projection_settled_person_settled_on", "projection_settled_person", ["settled_on"]
    )
    op.create_table(
        "projection_dead_letter",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projection_dead_letter"),
    )


def downgrade() -> None:
    for table in (
        "projection_dead_letter",
        "projection_settled_person",
        "projection_case",
        "projection_applied_event",
        "projection_position",
    ):
        op.drop_table(table)
