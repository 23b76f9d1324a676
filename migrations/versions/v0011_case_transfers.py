"""Case transfers between regions, the outbox that carries them, and messages received.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.db.types import UTCDateTime

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_transfer",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("partner_region", sa.String(8), nullable=False),
        sa.Column("remote_id", sa.String(36), nullable=True),
        sa.Column("household_id", sa.String(32), nullable=True),
        sa.Column("partner_household_id", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=True),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(36), nullable=True),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfer")),
        sa.UniqueConstraint(
            "partner_region", "remote_id", name=op.f("uq_case_transfer_partner_region")
        ),
    )
    op.create_index(
        "ix_case_transfer_direction_state", "case_transfer", ["direction", "state", "created_at"]
    )
    op.create_index(op.f("ix_case_transfer_household_id"), "case_transfer", ["household_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("partner_region", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("transfer_id", sa.String(36), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_index("ix_outbox_message_state_next", "outbox_message", ["state", "next_attempt_at"])
    op.create_index(op.f("ix_outbox_message_transfer_id"), "outbox_message", ["transfer_id"])
    op.create_table(
        "partner_received_message",
        sa.Column("partner_region", sa.String(8), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "partner_region", "message_id", name=op.f("pk_partner_received_message")
        ),
    )


def downgrade() -> None:
    op.drop_table("partner_received_message")
    op.drop_index(op.f("ix_outbox_message_transfer_id"), table_name="outbox_message")
    op.drop_index("ix_outbox_message_state_next", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_index(op.f("ix_case_transfer_household_id"), table_name="case_transfer")
    op.drop_index("ix_case_transfer_direction_state", table_name="case_transfer")
    op.drop_table("case_transfer")
