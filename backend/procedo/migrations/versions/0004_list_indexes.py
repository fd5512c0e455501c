"""indexes for the inbox and the instance list

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:40:00

The instance list shows the newest instances first, all or by status: an index
in that order answers a page without sorting the tenant's instances. The
"mine" inbox finds a user's tasks by assignee. The old (tenant, status) index
on instances is a prefix of the new one.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch_op:
        batch_op.drop_index("ix_instances_tenant_status")
        batch_op.create_index(
            "ix_instances_tenant_status_started", ["tenant_id", "status", "started_at", "id"]
        )
        batch_op.create_index("ix_instances_tenant_started", ["tenant_id", "started_at", "id"])
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.create_index(
            "ix_tasks_tenant_assignee", ["tenant_id", "assignee", "status", "due_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch_op:
        batch_op.drop_index("ix_tasks_tenant_assignee")
    with op.batch_alter_table("instances") as batch_op:
        batch_op.drop_index("ix_instances_tenant_started")
        batch_op.drop_index("ix_instances_tenant_status_started")
        batch_op.create_index("ix_instances_tenant_status", ["tenant_id", "status"])
