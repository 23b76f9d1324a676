"""Change reports and referrals take an idempotency key: a retried write is recorded once.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column naming the client that wrote the row)
_KEYED = (("change_report", "recorded_by"), ("referral", "created_by"))


def upgrade() -> None:
    for table, client in _KEYED:
        op.add_column(table, sa.Column("idempotency_key", sa.String(128), nullable=True))
        op.add_column(table, sa.Column("request_hash", sa.String(64), nullable=True))
        # Rows without a key (NULL) never collide: NULLs are distinct in a unique index.
        op.create_index(f"uq_{table}_idempotency", table, [client, "idempotency_key"], unique=True)


def downgrade() -> None:
    for table, _client in _KEYED:
        op.drop_index(f"uq_{table}_idempotency", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("request_hash")
            batch.drop_column("idempotency_key")
