"""Household index and sync cursors.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.db.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_index",
        sa.Column("household_id", sa.String(32), nullable=False),
        sa.Column("district", sa.String(6), nullable=False),
        sa.Column("street", sa.String(64), nullable=False),
        sa.Column("hukou_type", sa.String(8), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.Column("upstream_updated_at", UTCDateTime(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_index")),
    )
    op.create_index(
        op.f("ix_household_index_district"), "household_index", ["district"], unique=False
    )
    op.create_index("ix_household_index_district_street", "household_index", ["district", "street"])
    op.create_table(
        "household_index_member",
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("household_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household_index.household_id"],
            name=op.f("fk_household_index_member_household_id_household_index"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_number", name=op.f("pk_household_index_member")),
    )
    op.create_index(
        op.f("ix_household_index_member_household_id"),
        "household_index_member",
        ["household_id"],
    )
    op.create_table(
        "household_index_enrollment",
        sa.Column("household_id", sa.String(32), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("income_stable", sa.Boolean(), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household_index.household_id"],
            name=op.f("fk_household_index_enrollment_household_id_household_index"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "household_id", "category", name=op.f("pk_household_index_enrollment")
        ),
    )
    op.create_index(
        "ix_household_index_enrollment_category",
        "household_index_enrollment",
        ["category", "status"],
    )
    op.create_table(
        "sync_cursor",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("updated_since", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_sync_cursor")),
    )


def downgrade() -> None:
    op.drop_table("sync_cursor")
    op.drop_index("ix_household_index_enrollment_category", "household_index_enrollment")
    op.drop_table("household_index_enrollment")
    op.drop_index(op.f("ix_household_index_member_household_id"), "household_index_member")
    op.drop_table("household_index_member")
    op.drop_index("ix_household_index_district_street", "household_index")
    op.drop_index(op.f("ix_household_index_district"), "household_index")
    op.drop_table("household_index")
