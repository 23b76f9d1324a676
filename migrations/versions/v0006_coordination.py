"""The work between departments: review schedules and reviews, change reports, alerts,
referrals and their history, and charity aid recorded through the hub.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_report",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("reported_by", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("review_due_by", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_report")),
    )
    with op.batch_alter_table("change_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_report_household_id"), ["household_id"], unique=False
        )

    op.create_table(
        "charity_aid",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("project_name", sa.String(length=128), nullable=False),
        sa.Column("beneficiary_id_number", sa.String(length=18), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charity_aid")),
    )
    with op.batch_alter_table("charity_aid", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charity_aid_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "uq_charity_aid_key", ["organisation_id", "idempotency_key"], unique=True
        )

    op.create_table(
        "referral",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("from_department", sa.String(length=32), nullable=False),
        sa.Column("to_department", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("response_due_on", sa.Date(), nullable=False),
        sa.Column("completion_due_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_from_state", ["from_department", "state", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_household_id"), ["household_id"], unique=False
        )
        batch_op.create_index(
            "ix_referral_to_state", ["to_department", "state", "created_at"], unique=False
        )

    op.create_table(
        "review",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("monthly_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_household_id"), ["household_id"], unique=False)

    op.create_table(
        "alert",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=False),
        sa.Column("opened_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", hub.db.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", hub.db.types.UTCDateTime(), nullable=True),
        sa.Column("handled_by", sa.String(length=36), nullable=True),
        sa.Column("dismissed_reason", sa.Text(), nullable=True),
        sa.Column("referral_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household_index.household_id"],
            name=op.f("fk_alert_household_id_household_index"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_household_id"), ["household_id"], unique=False)
        batch_op.create_index(
            "ix_alert_rule_state", ["rule", "state", "household_id"], unique=False
        )
        batch_op.create_index(
            "uq_alert_active",
            ["household_id", "rule"],
            unique=True,
            sqlite_where=sa.text("state != 'RESOLVED'"),
            postgresql_where=sa.text("state != 'RESOLVED'"),
        )

    op.create_table(
        "referral_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("at", hub.db.types.UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_event_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_event")),
    )
    with op.batch_alter_table("referral_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_event_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "review_schedule",
        sa.Column("household_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("cycle_months", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("last_reviewed_on", sa.Date(), nullable=True),
        sa.Column("regular_due_on", sa.Date(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=False),
        sa.Column("change_report_id", sa.String(length=36), nullable=True),
        sa.Column("rules_version", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household_index.household_id"],
            name=op.f("fk_review_schedule_household_id_household_index"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("household_id", "category", name=op.f("pk_review_schedule")),
    )
    with op.batch_alter_table("review_schedule", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_schedule_next_due_on", ["next_due_on", "household_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_review_schedule_next_due_on")

    op.drop_table("review_schedule")
    with op.batch_alter_table("referral_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_event_referral_id"))

    op.drop_table("referral_event")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_alert_active",
            sqlite_where=sa.text("state != 'RESOLVED'"),
            postgresql_where=sa.text("state != 'RESOLVED'"),
        )
        batch_op.drop_index("ix_alert_rule_state")
        batch_op.drop_index(batch_op.f("ix_alert_household_id"))

    op.drop_table("alert")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_household_id"))

    op.drop_table("review")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_to_state")
        batch_op.drop_index(batch_op.f("ix_referral_household_id"))
        batch_op.drop_index("ix_referral_from_state")

    op.drop_table("referral")
    with op.batch_alter_table("charity_aid", schema=None) as batch_op:
        batch_op.drop_index("uq_charity_aid_key")
        batch_op.drop_index(batch_op.f("ix_charity_aid_household_id"))

    op.drop_table("charity_aid")
    with op.batch_alter_table("change_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_report_household_id"))

    op.drop_table("change_report")
