"""projection: the case register (one row per case and per person) for the work queues

Filled from the event stream from this revision on; `bosetting rebuild-projection` fills it
with every case the event log holds.

Revision ID: p0007
Revises: p0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "p0007"
down_revision = "p0006"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
QUEUE_INDEXES = {
    "ix_case_register_reception": ("open", "reception_centre", "target_date", "case_id"),
    "ix_case_register_open_target": ("open", "target_date", "case_id"),
    "ix_case_register_open_last_step": ("open", "last_step_at", "case_id"),
    "ix_case_register_ready": ("stage", "ready_on", "case_id"),
    "ix_case_register_stage_target": ("stage", "target_date", "case_id"),
    "ix_case_register_reply": ("stage", "reply_due_on", "case_id"),
    "ix_case_register_municipality": ("stage", "municipality_number", "allocated_on", "case_id"),
    "ix_case_register_accepted": ("stage", "municipality_number", "accepted_on", "case_id"),
}
"""One per work queue: its filter's columns, then its sort and the cursor's tie-break."""


def upgrade() -> None:
    op.create_table(
        "case_register_case",
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("reception_centre", sa.String(32), nullable=True),
        sa.Column("municipality_number", sa.String(4), nullable=True),
        sa.Column("permit_date", sa.Date(), nullable=False),
        sa.Column("ready_on", sa.Date(), nullable=True),
        sa.Column("competence_mapped_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(32), nullable=True),
        sa.Column("target_months", sa.Integer(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("allocated_on", sa.Date(), nullable=True),
        sa.Column("reply_due_on", sa.Date(), nullable=True),
        sa.Column("reply_overdue", sa.Boolean(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("first_settled_on", sa.Date(), nullable=True),
        sa.Column("last_settled_on", sa.Date(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Integer(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("last_event", sa.String(64), nullable=False),
        sa.Column("last_step_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_register_case")),
    )
    for name, columns in QUEUE_INDEXES.items():
        op.create_index(name, "case_register_case", list(columns))
    op.create_table(
        "case_register_person",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("permit_date", sa.Date(), nullable=True),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("municipality_number", sa.String(4), nullable=True),
        sa.Column("programme_right", sa.String(32), nullable=True),
        sa.Column("norwegian_right", sa.String(32), nullable=True),
        sa.Column("programme_start_due", sa.Date(), nullable=True),
        sa.Column("programme_started_on", sa.Date(), nullable=True),
        sa.Column("programme_ended_on", sa.Date(), nullable=True),
        sa.Column("norwegian_start_due", sa.Date(), nullable=True),
        sa.Column("norwegian_started_on", sa.Date(), nullable=True),
        sa.Column("norwegian_completion_due", sa.Date(), nullable=True),
        sa.Column("norwegian_concluded_on", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("record", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_case_register_person")),
    )
    op.create_index(op.f("ix_case_register_person_case_id"), "case_register_person", ["case_id"])
    op.create_index(
        "ix_case_register_person_due",
        "case_register_person",
        ["municipality_number", "next_due_on", "person_id"],
    )


def downgrade() -> None:
    op.drop_table("case_register_person")
    op.drop_table("case_register_case")
