"""Many users (issue 14): scenario owners and versions, roles, the admin's settings, the append-only audit log.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_REFUSE = "the audit log is append-only"


def upgrade() -> None:
    for name in ("owner", "owner_name", "changed_by"):  # owner: user id; '' = saved before sign-in
        op.add_column("scenario", sa.Column(name, sa.Text, nullable=False, server_default=""))
    op.add_column("scenario", sa.Column("version", sa.Integer, nullable=False, server_default="1"))  # +1 per change
    state = op.create_table(
        "area_manager_state",
        sa.Column("id", sa.Integer, sa.CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),  # +1 on every change of the table
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "version": 1, "changed_by": "", "changed_at": ""}])
    op.create_table(
        "role_grant",
        sa.Column("user_id", sa.Text, sa.CheckConstraint("user_id <> ''"), primary_key=True),
        sa.Column("role", sa.Text, sa.CheckConstraint("role IN ('guest', 'analyst', 'steward', 'admin')"),
                  nullable=False),
        sa.Column("provinces", sa.Text, nullable=False, server_default=""),  # a steward's codes, space-separated
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Text, nullable=False),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),  # JSON
        sa.Column("changed_by", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Text, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.Text, nullable=False),  # UTC, ISO 8601
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_index("audit_at", "audit", ["at"])
    # No page, command or hand-made request can edit the log: the database itself refuses.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$")
        op.execute("CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
                   "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")
    else:
        for what in ("update", "delete"):
            op.execute(f"CREATE TRIGGER audit_no_{what} BEFORE {what.upper()} ON audit "
                       f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")
