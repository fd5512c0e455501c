"""no schema change: reserved for imports over HTTP, which needed none

Kept so a database that applied it stays on the chain.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
