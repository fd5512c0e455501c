"""payment arrangements and promises from the portal (reserved; filled by the portal work)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
