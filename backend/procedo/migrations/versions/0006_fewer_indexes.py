"""drop indexes no query needs: each costs every insert on the step path

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 11:20:00

A step inserts history, tokens, tasks and candidates and updates instances and
subjects; every index on those tables is written each time. These were made by
default for every tenant_id column, but a composite index that leads with
tenant_id serves every by-tenant lookup on subjects, instances, tasks and tokens,
and history and task candidates are never looked up by tenant alone (nor
candidates by email alone: the roles' inbox has its own index, 0005).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DROPPED = (
    ("subjects", "ix_subjects_tenant_id", ["tenant_id"]),
    ("instances", "ix_instances_tenant_id", ["tenant_id"]),
    ("tokens", "ix_tokens_tenant_id", ["tenant_id"]),
    ("tasks", "ix_tasks_tenant_id", ["tenant_id"]),
    ("task_candidates", "ix_task_candidates_tenant_id", ["tenant_id"]),
    ("task_candidates", "ix_task_candidates_user_email", ["user_email"]),
    ("history", "ix_history_tenant_id", ["tenant_id"]),
)


def upgrade() -> None:
    for table, name, _columns in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in DROPPED:
        op.create_index(name, table, columns)
