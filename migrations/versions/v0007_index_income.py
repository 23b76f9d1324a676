"""The household index keeps the assessed monthly income, to notice when it changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Null until the next sync brings it; a null is never taken for a change.
    with op.batch_alter_table("household_index") as batch:
        batch.add_column(sa.Column("assessed_income_fen", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household_index") as batch:
        batch.drop_column("assessed_income_fen")
