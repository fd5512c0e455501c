"""login failures counted in the database; API tokens expire

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:30:00

Failed logins were counted in each API process, so N processes allowed N times
the attempts: now every process counts the rows of `login_failures`. The table
has no tenant_id and so no row-level security (0003): it is read before any
tenant is known. API tokens get an end: tokens made before this migration end
90 days after it (not 90 days after they were made, which would cut off
integrations at the upgrade).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

EXISTING_TOKEN_DAYS = 90
_GRANT = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'procedo_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON login_failures TO procedo_app;
  END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key_hash", "failed_at"])
    op.create_index("ix_login_failures_failed_at", "login_failures", ["failed_at"])
    if op.get_bind().dialect.name == "postgresql":
        # 0003's default privileges cover tables made by the same role; say it outright.
        op.execute(_GRANT)

    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("expires_at", UtcDateTime(), nullable=True))
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(days=EXISTING_TOKEN_DAYS)
    op.get_bind().execute(
        sa.text("UPDATE api_tokens SET expires_at = :ends").bindparams(
            sa.bindparam("ends", ends, type_=UtcDateTime())
        )
    )
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.alter_column("expires_at", existing_type=UtcDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_index("ix_login_failures_failed_at", table_name="login_failures")
    op.drop_index("ix_login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
