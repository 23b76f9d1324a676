"""Partner regions: their hubs and keys, the documents they may run, the tokens they used.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.db.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner",
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("url", sa.String(512), nullable=True),
        sa.Column("audience", sa.String(128), nullable=True),
        sa.Column("jwks_url", sa.String(512), nullable=True),
        sa.Column("jwks_fetched_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_partner_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_partner")),
        sa.UniqueConstraint("region", name=op.f("uq_partner_region")),
    )
    op.create_table(
        "partner_key",
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("kid", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["partner.client_id"],
            name=op.f("fk_partner_key_client_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "kid", name=op.f("pk_partner_key")),
    )
    op.create_table(
        "trusted_document",
        sa.Column("document_id", sa.String(71), nullable=False),
        sa.Column("partner", sa.String(36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("operation_name", sa.String(128), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "partner", name=op.f("pk_trusted_document")),
    )
    op.create_table(
        "partner_seen_token",
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("jti", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_partner_seen_token")),
    )
    op.create_index(op.f("ix_partner_seen_token_expires_at"), "partner_seen_token", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_seen_token_expires_at"), table_name="partner_seen_token")
    op.drop_table("partner_seen_token")
    op.drop_table("trusted_document")
    op.drop_table("partner_key")
    op.drop_table("partner")
