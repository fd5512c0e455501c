"""indexes for set-based selection on computed facts: unpaid items by due date, marked history

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 19:00:00

Both are partial: a ledger is mostly paid items and a history mostly unmarked rows,
so each index holds the few rows a schedule's filter looks for (docs/benchmarks.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_open_items_unpaid_due",
        "open_items",
        ["status", "due_date", "debtor_id"],
        postgresql_where=sa.text("status <> 'paid'"),
        sqlite_where=sa.text("status <> 'paid'"),
    )
    op.create_index(
        "ix_history_marked",
        "history",
        ["kind", "subject_id"],
        postgresql_where=sa.text("(data ->> 'mark') IS NOT NULL"),
        postgresql_include=["instance_id", "data"],
        sqlite_where=sa.text("json_extract(data, '$.mark') IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_history_marked", table_name="history")
    op.drop_index("ix_open_items_unpaid_due", table_name="open_items")
