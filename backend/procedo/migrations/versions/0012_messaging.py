"""messaging: a tenant's email settings and template library, with row-level security

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:00:00

A tenant sets its own SMTP server (the password kept only encrypted) and keeps
named email templates per language (db/messaging.py). All three tables get
0003's tenant policy. Tenants' old ``tenants.smtp`` JSON stays readable as a
fallback until a tenant saves settings here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.messaging import LANGUAGES, SECURITY_MODES
from procedo.db.models import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("email_settings", "message_templates", "message_template_texts")
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
      ON email_settings, message_templates, message_template_texts TO procedo_app;
  END IF;
END $$
"""


def _known(table: str, column: str, allowed: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in allowed)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}_known"))


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "email_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=500), nullable=True),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("sender_address", sa.String(length=254), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("reply_to", sa.String(length=254), nullable=True),
        sa.Column("default_language", sa.String(length=2), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        _known("email_settings", "security", SECURITY_MODES),
        _known("email_settings", "default_language", LANGUAGES),
        _tenant_fk("email_settings"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_email_settings")),
    )
    op.create_table(
        "message_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        _tenant_fk("message_templates"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_message_templates_tenant_id")),
    )
    op.create_table(
        "message_template_texts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        _known("message_template_texts", "language", LANGUAGES),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["message_templates.id"],
            name=op.f("fk_message_template_texts_template_id_message_templates"),
            ondelete="CASCADE",
        ),
        _tenant_fk("message_template_texts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_template_texts")),
        sa.UniqueConstraint(
            "template_id", "language", name=op.f("uq_message_template_texts_template_id")
        ),
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
    op.drop_table("message_template_texts")
    op.drop_table("message_templates")
    op.drop_table("email_settings")
