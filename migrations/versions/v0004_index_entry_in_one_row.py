"""A household index row holds its members' ID numbers and active categories.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("household_index") as batch:
        batch.add_column(sa.Column("member_ids", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("categories", sa.String(length=128), nullable=False, server_default="")
        )
    # Fill them from the child tables, in household order and category order.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """UPDATE household_index h SET
              member_ids = COALESCE((SELECT string_agg(m.id_number, ',' ORDER BY m.position)
                FROM household_index_member m WHERE m.household_id = h.household_id), ''),
              categories = COALESCE((SELECT string_agg(e.category, ',' ORDER BY e.category)
                FROM household_index_enrollment e
                WHERE e.household_id = h.household_id AND e.status = 'ACTIVE'), '')"""
        )
    else:
        op.execute(
            """UPDATE household_index SET
              member_ids = COALESCE((SELECT group_concat(id_number, ',') FROM
                (SELECT id_number FROM household_index_member m
                 WHERE m.household_id = household_index.household_id ORDER BY m.position)), ''),
              categories = COALESCE((SELECT group_concat(category, ',') FROM
                (SELECT category FROM household_index_enrollment e
                 WHERE e.household_id = household_index.household_id AND e.status = 'ACTIVE'
                 ORDER BY e.category)), '')"""
        )


def downgrade() -> None:
    with op.batch_alter_table("household_index") as batch:
        batch.drop_column("categories")
        batch.drop_column("member_ids")
