"""Saved pilot scenarios and the Area Managers table.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False, unique=True),  # casefolded: names are unique ignoring case
        sa.Column("frame", sa.Text, nullable=False),  # JSON
        sa.Column("settings", sa.Text, nullable=False),  # JSON
        sa.Column("result", sa.LargeBinary, nullable=False),  # parquet bytes of the shortlist
        sa.Column("result_object_columns", sa.Text, nullable=False),  # JSON: what was dtype object
        sa.Column("n_areas", sa.Integer, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("store_version", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sqlite_autoincrement=True,  # a deleted scenario's id is never given to another
    )
    op.create_table(
        "area_manager",
        sa.Column("manager", sa.Text, sa.CheckConstraint("manager <> ''"), nullable=False),
        sa.Column("code", sa.Text, sa.CheckConstraint("length(code) IN (2, 4, 6)"), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("manager", "code"),
    )
    op.create_index("area_manager_code", "area_manager", ["code"])
