"""payments: bank reference, debtor and remittance details; open items' payment reference

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:30:00

Bank statements (CAMT.053) and payments posted by an ERP keep what matching
reads: the debtor's name and IBAN, the structured creditor reference and the
free remittance text. The bank's reference is unique per tenant, so importing a
statement twice stores each payment once. An open item gets the structured
reference printed on it (RF or betalingskenmerk).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.receivables import Money

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TEXTS = (
    ("source", 16, "api"),
    ("debtor_name", 140, ""),
    ("debtor_iban", 34, ""),
    ("creditor_reference", 35, ""),
)


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("bank_reference", sa.String(length=200), nullable=True))
        for name, length, default in _TEXTS:
            batch.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default=default)
            )
        batch.add_column(sa.Column("remittance", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("matched_by", sa.String(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("unapplied", Money(), nullable=False, server_default="0"))
        batch.create_unique_constraint(
            op.f("uq_payments_tenant_id"), ["tenant_id", "bank_reference"]
        )
    # The defaults were for rows already there; the application writes every column.
    with op.batch_alter_table("payments") as batch:
        for name, _length, _default in _TEXTS:
            batch.alter_column(name, server_default=None)
        for name in ("remittance", "matched_by", "unapplied"):
            batch.alter_column(name, server_default=None)
    op.create_index("ix_payments_debtor_iban", "payments", ["tenant_id", "debtor_iban"])
    with op.batch_alter_table("open_items") as batch:
        batch.add_column(sa.Column("payment_reference", sa.String(length=35), nullable=True))
    op.create_index(
        "ix_open_items_payment_reference", "open_items", ["tenant_id", "payment_reference"]
    )


def downgrade() -> None:
    op.drop_index("ix_open_items_payment_reference", table_name="open_items")
    with op.batch_alter_table("open_items") as batch:
        batch.drop_column("payment_reference")
    op.drop_index("ix_payments_debtor_iban", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint(op.f("uq_payments_tenant_id"), type_="unique")
        for name in ("unapplied", "matched_by", "remittance", "bank_reference"):
            batch.drop_column(name)
        for name, _length, _default in _TEXTS:
            batch.drop_column(name)
