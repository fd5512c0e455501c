"""payment arrangements and promises from the portal: instalment plans, promise checks

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 19:00:00

The three new tables get 0003's tenant policy; portal_settings gains what a broken
promise leads to (a task, or the standard flow continues).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from procedo.db.models import UtcDateTime
from procedo.db.portal_plans import ARRANGEMENT_STATES, PROMISE_STATES
from procedo.db.receivables import Money

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("payment_arrangements", "arrangement_instalments", "payment_promises")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE
      ON payment_arrangements, arrangement_instalments, payment_promises TO procedo_app;
  END IF;
END $$
"""


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _states(table: str, states: tuple[str, ...]) -> sa.CheckConstraint:
    known = ", ".join(f"'{s}'" for s in states)
    return sa.CheckConstraint(f"status IN ({known})", name=op.f(f"ck_{table}_status_known"))


def upgrade() -> None:
    op.create_table(
        "payment_arrangements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("reaction_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("open_items", _JSON, nullable=False),
        sa.Column("exceeded", _JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        _states("payment_arrangements", ARRANGEMENT_STATES),
        _fk("payment_arrangements", "tenant_id", "tenants"),
        _fk("payment_arrangements", "debtor_id", "subjects"),
        _fk("payment_arrangements", "reaction_id", "portal_reactions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_arrangements")),
    )
    op.create_index(
        op.f("ix_payment_arrangements_tenant_id"), "payment_arrangements", ["tenant_id"]
    )
    op.create_index(
        "ix_payment_arrangements_debtor", "payment_arrangements", ["debtor_id", "created_at"]
    )
    op.create_index("ix_payment_arrangements_status", "payment_arrangements", ["status"])
    op.create_table(
        "arrangement_instalments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("arrangement_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("paid_amount", Money(), nullable=False),
        sa.Column("paid_at", UtcDateTime(), nullable=True),
        _fk("arrangement_instalments", "tenant_id", "tenants"),
        _fk("arrangement_instalments", "arrangement_id", "payment_arrangements"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrangement_instalments")),
        sa.UniqueConstraint(
            "arrangement_id", "number", name=op.f("uq_arrangement_instalments_arrangement_id")
        ),
    )
    op.create_index(
        op.f("ix_arrangement_instalments_tenant_id"), "arrangement_instalments", ["tenant_id"]
    )
    op.create_table(
        "payment_promises",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("reaction_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pay_on", sa.Date(), nullable=False),
        sa.Column("check_on", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("open_items", _JSON, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=True),
        _states("payment_promises", PROMISE_STATES),
        _fk("payment_promises", "tenant_id", "tenants"),
        _fk("payment_promises", "debtor_id", "subjects"),
        _fk("payment_promises", "reaction_id", "portal_reactions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_promises")),
    )
    op.create_index(op.f("ix_payment_promises_tenant_id"), "payment_promises", ["tenant_id"])
    op.create_index("ix_payment_promises_debtor", "payment_promises", ["debtor_id", "created_at"])
    op.create_index("ix_payment_promises_status", "payment_promises", ["status", "check_on"])
    with op.batch_alter_table("portal_settings") as batch_op:
        batch_op.add_column(
            sa.Column("broken_promise", sa.String(length=16), nullable=False, server_default="task")
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
            )
        op.execute(_GRANT)


def downgrade() -> None:
    with op.batch_alter_table("portal_settings") as batch_op:
        batch_op.drop_column("broken_promise")
    op.drop_table("payment_promises")
    op.drop_table("arrangement_instalments")
    op.drop_table("payment_arrangements")
