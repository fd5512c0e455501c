"""phases and checkpoints: who ticked each checkpoint of a task, and when (K2)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import JSONType

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(sa.Column("ticks", JSONType, nullable=True))
    op.execute(sa.text("UPDATE tasks SET ticks = '{}'"))
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.alter_column("ticks", existing_type=JSONType, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("ticks")
