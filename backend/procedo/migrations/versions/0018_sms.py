"""SMS and attachments: SMS provider settings, open items' documents, the outbox's attachment

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 19:00:00

Both new tables get 0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("sms_settings", "open_item_documents")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON sms_settings, open_item_documents TO procedo_app;
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
        "sms_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("token_encrypted", sa.Text(), nullable=True),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.CheckConstraint(
            "provider IN ('sink', 'http')", name=op.f("ck_sms_settings_provider_known")
        ),
        _tenant_fk("sms_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sms_settings")),
    )
    op.create_table(
        "open_item_documents",
        sa.Column("open_item_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["open_item_id"],
            ["open_items.id"],
            name=op.f("fk_open_item_documents_open_item_id_open_items"),
            ondelete="CASCADE",
        ),
        _tenant_fk("open_item_documents"),
        sa.PrimaryKeyConstraint("open_item_id", name=op.f("pk_open_item_documents")),
    )
    op.create_index(op.f("ix_open_item_documents_tenant_id"), "open_item_documents", ["tenant_id"])
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("attach_item", sa.Uuid(), nullable=True))
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
        batch_op.drop_column("attach_item")
    op.drop_index(op.f("ix_open_item_documents_tenant_id"), table_name="open_item_documents")
    op.drop_table("open_item_documents")
    op.drop_table("sms_settings")
