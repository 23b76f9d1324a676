"""Indexes that serve the household listing's filters in household-ID order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A page of a district (or a street) in household-ID order is a range scan of one of
    # these, stopping at the page's end, instead of a sort of every matching row.
    op.drop_index("ix_household_index_district", table_name="household_index")
    op.drop_index("ix_household_index_district_street", table_name="household_index")
    op.create_index(
        "ix_household_index_district_id", "household_index", ["district", "household_id"]
    )
    op.create_index(
        "ix_household_index_district_street_id",
        "household_index",
        ["district", "street", "household_id"],
    )
    op.drop_index("ix_household_index_enrollment_category", table_name="household_index_enrollment")
    op.create_index(
        "ix_household_index_enrollment_category_id",
        "household_index_enrollment",
        ["category", "status", "household_id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_household_index_enrollment_category_id", table_name="household_index_enrollment"
    )
    op.create_index(
        "ix_household_index_enrollment_category",
        "household_index_enrollment",
        ["category", "status"],
    )
    op.drop_index("ix_household_index_district_street_id", table_name="household_index")
    op.drop_index("ix_household_index_district_id", table_name="household_index")
    op.create_index("ix_household_index_district_street", "household_index", ["district", "street"])
    op.create_index("ix_household_index_district", "household_index", ["district"])
