"""letters: each tenant's letterhead, print batches, a letter's PDF and batch on the outbox

Also the outbox's index for its page: a tenant's messages, newest first.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:00:00

Both new tables get 0003's tenant policy; the outbox already has it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("letterheads", "print_batches")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON letterheads, print_batches TO procedo_app;
  END IF;
END $$
"""


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "letterheads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("footer", sa.String(length=300), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        _tenant_fk("letterheads"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_letterheads")),
    )
    op.create_table(
        "print_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("printed_at", UtcDateTime(), nullable=True),
        sa.Column("printed_by", sa.String(length=254), nullable=True),
        _tenant_fk("print_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batches")),
    )
    op.create_index(op.f("ix_print_batches_tenant_id"), "print_batches", ["tenant_id"])
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_batch_id"), ["batch_id"])
        batch_op.create_index("ix_outbox_tenant_created", ["tenant_id", "created_at"])
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_batch_id_print_batches"),
            "print_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
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
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_batch_id_print_batches"), type_="foreignkey")
        batch_op.drop_index("ix_outbox_tenant_created")
        batch_op.drop_index(batch_op.f("ix_outbox_batch_id"))
        batch_op.drop_column("document")
        batch_op.drop_column("batch_id")
    op.drop_index(op.f("ix_print_batches_tenant_id"), table_name="print_batches")
    op.drop_table("print_batches")
    op.drop_table("letterheads")
