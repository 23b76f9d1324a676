"""Clients and their tokens, consents, and the hash-chained audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hub.db.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=True),
        sa.Column("client_kind", sa.String(length=16), nullable=True),
        sa.Column("token_id", sa.String(length=16), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("operation", sa.String(length=128), nullable=False),
        sa.Column("households", sa.Text(), nullable=False),
        sa.Column("sections", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "client",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("district", sa.String(length=6), nullable=True),
        sa.Column("street", sa.String(length=64), nullable=True),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("purposes", sa.String(length=256), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
        sa.UniqueConstraint("name", name=op.f("uq_client_name")),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_household_id"), ["household_id"], unique=False)

    op.create_table(
        "audit_disclosure",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_log.seq"],
            name=op.f("fk_audit_disclosure_seq_audit_log"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", "household_id", name=op.f("pk_audit_disclosure")),
    )
    with op.batch_alter_table("audit_disclosure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_disclosure_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "token",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_token_client_id_client"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_token_token_hash")),
    )
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_client_id"))

    op.drop_table("token")
    with op.batch_alter_table("audit_disclosure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_disclosure_household_id"))

    op.drop_table("audit_disclosure")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_household_id"))

    op.drop_table("consent")
    op.drop_table("client")
    op.drop_table("audit_log")
