"""partner grants name the states they apply to and the fields a partner sees

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:00:00

A grant said only which statuses a partner may set ("paid"), so a partner could
set them in any state (on a rejected invoice, or while it still waited for
approval) and saw every field of every subject. Now each status names the
subject states it may be set from (``[{"status": "paid", "from": ["payable"]}]``)
and ``fields`` the subject fields the partner sees. Grants made before cannot
say which states were meant: they keep their statuses with ``from: []`` and
``fields: []`` and so allow nothing until an admin grants again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from procedo.db.models import JSONType

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PARTNERSHIPS = sa.table(
    "partnerships",
    sa.column("id", sa.Uuid()),
    sa.column("statuses", JSONType),
    sa.column("fields", JSONType),
)


def _convert(statuses: list[Any], upgrade: bool) -> list[Any]:
    if upgrade:
        return [{"status": s, "from": []} if isinstance(s, str) else s for s in statuses]
    return [s["status"] if isinstance(s, dict) else s for s in statuses]


def _rewrite(upgrade: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_PARTNERSHIPS.c.id, _PARTNERSHIPS.c.statuses)).all()
    values: dict[str, Any] = {"fields": []} if upgrade else {}
    for ident, statuses in rows:
        bind.execute(
            _PARTNERSHIPS.update()
            .where(_PARTNERSHIPS.c.id == ident)
            .values(statuses=_convert(statuses or [], upgrade), **values)
        )


def upgrade() -> None:
    with op.batch_alter_table("partnerships") as batch_op:
        batch_op.add_column(sa.Column("fields", JSONType, nullable=True))
    _rewrite(upgrade=True)
    with op.batch_alter_table("partnerships") as batch_op:
        batch_op.alter_column("fields", existing_type=JSONType, nullable=False)


def downgrade() -> None:
    _rewrite(upgrade=False)
    with op.batch_alter_table("partnerships") as batch_op:
        batch_op.drop_column("fields")
