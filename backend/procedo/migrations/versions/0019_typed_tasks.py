"""typed tasks (D2) and approvals (D4): a task's type

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 19:00:00

assign_role's task type (general, phone_call, lawyer_handover, approval) is kept
on the task: the inbox and the all-tasks list filter by it, and the approval list
is the open tasks of type approval (docs/node-types.md, docs/operations.md).
Existing tasks are general.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(32), nullable=False, server_default="general")
        )
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.alter_column("kind", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_column("kind")
