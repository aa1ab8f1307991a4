"""register: the web app's sessions

A signed-in browser: the hash of its cookie's random value, the reader's bearer token, the
form token (CSRF), the purpose given for reading personal records, and a sign-in under way.

Revision ID: r0010
Revises: r0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "r0010"
down_revision = "r0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=True),
        sa.Column("pending", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_session"),
    )
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_session_expires_at", table_name="web_session")
    op.drop_table("web_session")
