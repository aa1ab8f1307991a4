"""projection: protected households in the feed and in the breakdowns by place

An entry of a household or record with a protected-identity person tells where that person
lives by where it appears, so it is marked and served to cleared readers only, and never put
on the feed topic. Entries written before this revision are marked from what they carry (a
protected member, or a protected record's hidden subject); a rebuild marks them exactly.

A settled person whose household has a protected member counts in no breakdown by place
(``household_protected``); versions written before are marked by a rebuild.

Revision ID: p0005
Revises: p0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "p0005"
down_revision = "p0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed_event") as batch:
        batch.add_column(
            sa.Column("protected", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("feed_stream") as batch:
        batch.add_column(
            sa.Column(
                "household_protected", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("projection_settled_person_version") as batch:
        batch.add_column(
            sa.Column(
                "household_protected", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.execute(
        "UPDATE feed_event SET protected = TRUE"
        " WHERE cloud_event LIKE '%\"protected_identity\": true%'"
        ' OR cloud_event LIKE \'%"subject": "protected"%\''
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_stream") as batch:
        batch.drop_column("household_protected")
    with op.batch_alter_table("projection_settled_person_version") as batch:
        batch.drop_column("household_protected")
    with op.batch_alter_table("feed_event") as batch:
        batch.drop_column("protected")
