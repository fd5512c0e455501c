"""a scheduled flow's failed run: the error, when, and how many in a row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:30:00

Each due schedule runs in a transaction of its own; one that fails records its
error on the schedule (shown to its tenant by GET /schedules) and is tried again
after a pause that doubles with each failure in a row (runtime/schedules.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.add_column(
            sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_error_at", UtcDateTime(), nullable=True))
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.alter_column("failures", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.drop_column("last_error_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("failures")
