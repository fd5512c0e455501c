"""reviewed payment arrangements: staff accept or decline them (who, when, why)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 00:00:00

payment_arrangements may now be 'declined', and keeps the decision's author, moment
and reason.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from procedo.db.models import UtcDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_NAME = "ck_payment_arrangements_status_known"
_BEFORE = ("review", "active", "broken", "completed", "replaced")
_AFTER = (*_BEFORE, "declined")


def _check(states: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{s}'" for s in states))


def upgrade() -> None:
    with op.batch_alter_table("payment_arrangements") as batch_op:
        batch_op.add_column(sa.Column("decided_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), _check(_AFTER))


def downgrade() -> None:
    op.execute("UPDATE payment_arrangements SET status = 'replaced' WHERE status = 'declined'")
    with op.batch_alter_table("payment_arrangements") as batch_op:
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), _check(_BEFORE))
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("decided_at")
