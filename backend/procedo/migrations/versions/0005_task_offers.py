"""the roles' inbox in index order: task candidates carry the offer and its urgency

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:50:00

"My roles' inbox" lists the open, untaken tasks a user is a candidate for, most
urgent first. Read from the tasks, it scans the tenant's open tasks in due order
and probes each for the user: slow where few are theirs. Each candidate row now
says whether the task is still offered and copies its due and created moments
(which never change), so the inbox is one range of a partial index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_candidates") as batch_op:
        batch_op.add_column(
            sa.Column("offered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("due_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("created_at", UtcDateTime(), nullable=True))
    op.execute(
        """
        UPDATE task_candidates SET
            offered = (SELECT t.status = 'open' AND t.assignee IS NULL
                       FROM tasks t WHERE t.id = task_candidates.task_id),
            due_at = (SELECT t.due_at FROM tasks t WHERE t.id = task_candidates.task_id),
            created_at = (SELECT t.created_at FROM tasks t WHERE t.id = task_candidates.task_id)
        """
    )
    with op.batch_alter_table("task_candidates") as batch_op:
        batch_op.alter_column("offered", server_default=None)
        batch_op.alter_column("created_at", existing_type=UtcDateTime(), nullable=False)
        batch_op.create_index(
            "ix_task_candidates_offers",
            ["tenant_id", "user_email", "due_at", "created_at", "task_id"],
            postgresql_where=sa.text("offered"),
            sqlite_where=sa.text("offered"),
        )


def downgrade() -> None:
    with op.batch_alter_table("task_candidates") as batch_op:
        batch_op.drop_index("ix_task_candidates_offers")
        batch_op.drop_column("created_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("offered")
