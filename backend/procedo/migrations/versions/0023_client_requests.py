"""client requests and filing approvals: what the office asks a client, what comes back

Also ``portal_links.scope``: the portal's links serve the client page too, a link of
one scope unknown to the other's page (existing links are the debtor portal's).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 19:00:00

Both new tables get 0003's tenant policy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import JSONType, UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLES = ("client_requests", "client_request_files")
_SETTING = "current_setting('procedo.tenant', true)"
_VISIBLE = (
    f"(coalesce({_SETTING}, '*') = '*' OR tenant_id = "
    f"CASE WHEN {_SETTING} ~ '^[0-9a-fA-F-]{{36}}$' THEN {_SETTING}::uuid END)"
)
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON client_requests, client_request_files
      TO procedo_app;
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
        "client_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("instance_id", sa.Uuid(), nullable=True),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("items", JSONType, nullable=False),
        sa.Column("answers", JSONType, nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reminder_days", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("deadline_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("submission", JSONType, nullable=False),
        sa.CheckConstraint(
            "kind IN ('documents', 'filing')", name=op.f("ck_client_requests_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'complete', 'overdue', 'approved', 'declined', 'informed')",
            name=op.f("ck_client_requests_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["subjects.id"],
            name=op.f("fk_client_requests_client_id_subjects"),
            ondelete="CASCADE",
        ),
        _tenant_fk("client_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_requests")),
    )
    op.create_index(op.f("ix_client_requests_tenant_id"), "client_requests", ["tenant_id"])
    op.create_index("ix_client_requests_client", "client_requests", ["client_id", "created_at"])
    op.create_index("ix_client_requests_instance", "client_requests", ["instance_id", "status"])
    op.create_table(
        "client_request_files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["client_requests.id"],
            name=op.f("fk_client_request_files_request_id_client_requests"),
            ondelete="CASCADE",
        ),
        _tenant_fk("client_request_files"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_request_files")),
    )
    op.create_index(
        op.f("ix_client_request_files_tenant_id"), "client_request_files", ["tenant_id"]
    )
    op.create_index(
        "ix_client_request_files_request", "client_request_files", ["request_id", "item_id"]
    )
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="debtor", nullable=False)
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
    with op.batch_alter_table("portal_links") as batch_op:
        batch_op.drop_column("scope")
    op.drop_index("ix_client_request_files_request", table_name="client_request_files")
    op.drop_index(op.f("ix_client_request_files_tenant_id"), table_name="client_request_files")
    op.drop_table("client_request_files")
    op.drop_index("ix_client_requests_instance", table_name="client_requests")
    op.drop_index("ix_client_requests_client", table_name="client_requests")
    op.drop_index(op.f("ix_client_requests_tenant_id"), table_name="client_requests")
    op.drop_table("client_requests")
