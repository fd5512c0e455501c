"""a scheduled flow's last run: how many subjects it selected and how many it started

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:30:00

Shown by GET /schedules (D1); the difference is the subjects skipped because an
instance of the flow was still open on them (runtime/schedules.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.add_column(sa.Column("last_selected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_started", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flow_schedules") as batch_op:
        batch_op.drop_column("last_started")
        batch_op.drop_column("last_selected")
