"""portal: debtors' links (hashed tokens), their reactions, each tenant's portal settings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:00:00

All three tables get 0003's tenant policy. The portal itself runs unauthenticated
and finds a link by its hash across tenants, then works in the link's tenant
(procedo/portal/links.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from procedo.db.models import UtcDateTime
from procedo.db.portal import REACTION_KINDS
from procedo.db.receivables import Money

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("portal_links", "portal_reactions", "portal_settings")
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
    GRANT SELECT, INSERT, UPDATE, DELETE ON portal_links, portal_reactions, portal_settings
      TO procedo_app;
  END IF;
END $$
"""


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        _fk("portal_links", "tenant_id", "tenants"),
        _fk("portal_links", "debtor_id", "subjects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_links_token_hash")),
    )
    op.create_index(op.f("ix_portal_links_tenant_id"), "portal_links", ["tenant_id"])
    op.create_index("ix_portal_links_debtor", "portal_links", ["debtor_id", "revoked_at"])
    kinds = ", ".join(f"'{kind}'" for kind in REACTION_KINDS)
    op.create_table(
        "portal_reactions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("debtor_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("open_item_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("proof", sa.LargeBinary(), nullable=True),
        sa.Column("proof_type", sa.String(length=32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_portal_reactions_kind_known")),
        _fk("portal_reactions", "tenant_id", "tenants"),
        _fk("portal_reactions", "debtor_id", "subjects"),
        _fk("portal_reactions", "link_id", "portal_links", "SET NULL"),
        _fk("portal_reactions", "open_item_id", "open_items", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_reactions")),
    )
    op.create_index(op.f("ix_portal_reactions_tenant_id"), "portal_reactions", ["tenant_id"])
    op.create_index("ix_portal_reactions_debtor", "portal_reactions", ["debtor_id", "created_at"])
    op.create_table(
        "portal_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("reactions", _JSON, nullable=False),
        sa.Column("max_instalments", sa.Integer(), nullable=False),
        sa.Column("min_instalment_amount", Money(), nullable=False),
        sa.Column("max_term_days", sa.Integer(), nullable=False),
        sa.Column("promise_grace_days", sa.Integer(), nullable=False),
        sa.Column("link_days", sa.Integer(), nullable=False),
        sa.Column("texts", _JSON, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        _fk("portal_settings", "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_portal_settings")),
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
    op.drop_table("portal_settings")
    op.drop_table("portal_reactions")
    op.drop_table("portal_links")
