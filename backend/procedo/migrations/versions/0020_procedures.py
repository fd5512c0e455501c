"""collection procedures and the worksheet: which flows are procedures, postponed and undone actions

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 19:00:00

Both new tables get 0003's tenant policy (see 0016_letters.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from procedo.db.models import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLES = ("procedures", "worksheet_entries")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON procedures, worksheet_entries TO procedo_app;
  END IF;
END $$
"""
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flow_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rule", JSON, nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.CheckConstraint(
            "kind IN ('primary', 'secondary')", name=op.f("ck_procedures_kind_known")
        ),
        _tenant_fk("procedures"),
        sa.PrimaryKeyConstraint("tenant_id", "flow_key", name=op.f("pk_procedures")),
    )
    op.create_table(
        "worksheet_entries",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("postponed_until", sa.Date(), nullable=True),
        sa.Column("postponed_by", sa.String(length=254), nullable=True),
        sa.Column("undone_at", UtcDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_worksheet_entries_task_id_tasks"),
            ondelete="CASCADE",
        ),
        _tenant_fk("worksheet_entries"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_worksheet_entries")),
    )
    op.create_index(op.f("ix_worksheet_entries_tenant_id"), "worksheet_entries", ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
            )
        op.execute(_GRANT)


def downgrade() -> None:
    op.drop_index(op.f("ix_worksheet_entries_tenant_id"), table_name="worksheet_entries")
    op.drop_table("worksheet_entries")
    op.drop_table("procedures")
