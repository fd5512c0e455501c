"""receivables: debtors' open items and payments, with row-level security

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:00:00

Open items (sales invoices and credit notes) and payments belong to a debtor
subject by a foreign key (db/receivables.py). Amounts are numeric(18, 2) on
PostgreSQL and whole cents on SQLite. Both tables get 0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime
from procedo.db.receivables import ITEM_KINDS, ITEM_STATUSES, PAYMENT_STATUSES, Money

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("open_items", "payments")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON open_items, payments TO procedo_app;
  END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "open_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("open_amount", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in ITEM_STATUSES)),
            name=op.f("ck_open_items_status_known"),
        ),
        sa.CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in ITEM_KINDS)),
            name=op.f("ck_open_items_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["subjects.id"],
            name=op.f("fk_open_items_debtor_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_open_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_items")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_open_items_tenant_id")),
    )
    op.create_index("ix_open_items_debtor", "open_items", ["debtor_id", "status", "due_date"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=True),
        sa.Column("open_item_id", sa.Uuid(), nullable=True),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in PAYMENT_STATUSES)),
            name=op.f("ck_payments_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["subjects.id"],
            name=op.f("fk_payments_debtor_id_subjects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["open_item_id"],
            ["open_items.id"],
            name=op.f("fk_payments_open_item_id_open_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index("ix_payments_debtor", "payments", ["debtor_id", "paid_on"])
    op.create_index("ix_payments_tenant_status", "payments", ["tenant_id", "status", "paid_on"])
    op.create_index("ix_payments_open_item_id", "payments", ["open_item_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
            )
        op.execute(_GRANT)


def downgrade() -> None:
    op.drop_index("ix_payments_open_item_id", table_name="payments")
    op.drop_index("ix_payments_tenant_status", table_name="payments")
    op.drop_index("ix_payments_debtor", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_open_items_debtor", table_name="open_items")
    op.drop_table("open_items")
