"""recurrence: the run holding each period, and each client's start plan (K5, K6)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00

``period_runs`` makes a start for a period idempotent (one run per flow, subject
and period); ``start_plans`` keeps when a flow next starts for a client and for
which period. Both get 0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("period_runs", "start_plans")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON period_runs, start_plans TO procedo_app;
  END IF;
END $$
"""


def _owner_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            [column],
            [f"{target}.id"],
            name=op.f(f"fk_{table}_{column}_{target}"),
            ondelete="CASCADE",
        )
        for column, target in (
            ("tenant_id", "tenants"),
            ("flow_id", "flows"),
            ("subject_id", "subjects"),
        )
    ]


def upgrade() -> None:
    op.create_table(
        "period_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        *_owner_keys("period_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_runs")),
        sa.UniqueConstraint("flow_id", "subject_id", "period", name=op.f("uq_period_runs_flow_id")),
    )
    op.create_index(op.f("ix_period_runs_tenant_id"), "period_runs", ["tenant_id"])
    op.create_index(op.f("ix_period_runs_subject_id"), "period_runs", ["subject_id"])
    op.create_table(
        "start_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("every", sa.String(length=16), nullable=True),
        sa.Column("next_on", sa.Date(), nullable=True),
        sa.Column("next_period", sa.String(length=16), nullable=True),
        sa.Column("next_run_at", UtcDateTime(), nullable=True),
        sa.Column("last_instance_id", sa.Uuid(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "every IN ('month', 'quarter')", name=op.f("ck_start_plans_every_known")
        ),
        *_owner_keys("start_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_start_plans")),
        sa.UniqueConstraint("flow_id", "subject_id", name=op.f("uq_start_plans_flow_id")),
    )
    op.create_index(op.f("ix_start_plans_tenant_id"), "start_plans", ["tenant_id"])
    op.create_index(op.f("ix_start_plans_subject_id"), "start_plans", ["subject_id"])
    op.create_index(op.f("ix_start_plans_next_run_at"), "start_plans", ["next_run_at"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
            )
        op.execute(_GRANT)


def downgrade() -> None:
    op.drop_table("start_plans")
    op.drop_table("period_runs")
