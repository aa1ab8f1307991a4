"""register: the audit log is append-only

Rows of ``audit_read`` can be added and never changed or removed, by any role that the
application connects as: a trigger refuses UPDATE and DELETE on SQLite and PostgreSQL alike
(on PostgreSQL, revoking the privileges from the application's role as well is advised:
deploy/README.md). Keeping the log for a limited time is the database owner's job, done by
disabling the trigger in a maintenance session, never by the application.

Revision ID: r0006
Revises: r0005
Create Date: 2026-12-04
"""

from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None

REFUSAL = "audit_read is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_read_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_read_append_only BEFORE UPDATE OR DELETE ON audit_read "
            "FOR EACH ROW EXECUTE FUNCTION audit_read_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_read_no_truncate BEFORE TRUNCATE ON audit_read "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_read_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_read_no_{verb.lower()} BEFORE {verb} ON audit_read "
            f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_read_no_truncate ON audit_read")
        op.execute("DROP TRIGGER audit_read_append_only ON audit_read")
        op.execute("DROP FUNCTION audit_read_append_only()")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER audit_read_no_{verb}")
