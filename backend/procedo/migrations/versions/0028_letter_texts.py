"""letters whose texts come from the template library; whom a message is about

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 00:00:00

outbox.text_template names the library template a letter is drawn from, in its
debtor's language, when it is printed ('' for a letter with its own texts).
outbox.subject_id names the subject a message is about, so the link it carries is
minted as it leaves also for a message of no run (a client request staff sent).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("text_template", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("subject_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("subject_id")
        batch_op.drop_column("text_template")
