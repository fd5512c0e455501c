"""hand-over digests: the customers listed in one email per account manager and run (D2)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 00:00:00

The new table gets 0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

TABLE = "hand_over_entries"
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON hand_over_entries TO procedo_app;
  END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("outbox_id", sa.Uuid(), nullable=False),
        sa.Column("digest_key", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_hand_over_entries_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_hand_over_entries_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_hand_over_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hand_over_entries")),
        sa.UniqueConstraint(
            "tenant_id",
            "digest_key",
            "subject_id",
            name=op.f("uq_hand_over_entries_tenant_id"),
        ),
    )
    op.create_index(op.f("ix_hand_over_entries_tenant_id"), TABLE, ["tenant_id"])
    op.create_index("ix_hand_over_entries_outbox", TABLE, ["outbox_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {TABLE} USING {_VISIBLE} WITH CHECK {_VISIBLE}"
        )
        op.execute(_GRANT)


def downgrade() -> None:
    op.drop_index("ix_hand_over_entries_outbox", table_name=TABLE)
    op.drop_index(op.f("ix_hand_over_entries_tenant_id"), table_name=TABLE)
    op.drop_table(TABLE)
