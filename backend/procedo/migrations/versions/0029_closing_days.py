"""the office's own closing days beside its country's public holidays

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 12:00:00

tenants.closing_days lists [{date, name}]: days the office does not work though its
country does (Christmas week, a company outing). Working days skip them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import JSONType

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(
            sa.Column("closing_days", JSONType, nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("closing_days")
