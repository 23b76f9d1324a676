"""The hub's own records of the work between departments. Every change here is a migration.

Amounts are kept in fen (integers), exact on SQLite and PostgreSQL alike; the code that
reads them speaks yuan (``Decimal``). Records that several people change carry a
``version`` (optimistic locking): a change made against an older version is refused.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models import Base
from hub.db.types import UTCDateTime

_HOUSEHOLD = "household_index.household_id"


class ReviewSchedule(Base):
    """When each active enrollment of a household is next reviewed (动态管理), and why.

    Kept in step by ``hub sync`` (enrollments change), ``recordReview`` (a review restarts
    the cycle) and ``reportChange`` (a change brings the review forward).
    """

    __tablename__ = "review_schedule"

    household_id: Mapped[str] = mapped_column(
        ForeignKey(_HOUSEHOLD, ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    cycle_months: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    regular_due_on: Mapped[date] = mapped_column(Date)  # last review (or since) + cycle
    next_due_on: Mapped[date] = mapped_column(Date)  # the earlier of that and a change's
    change_report_id: Mapped[str | None] = mapped_column(String(36))  # what brought it forward
    rules_version: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_review_schedule_next_due_on", "next_due_on", "household_id"),)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Review(Base):
    """A review recorded through the hub, with its outcome."""

    __tablename__ = "review"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(32))
    reviewed_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))
    monthly_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(36))  # client ID
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChangeReport(Base):
    """A major change in a household's members or finances, reported (主动报告)."""

    __tablename__ = "change_report"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    occurred_on: Mapped[date] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)
    reported_by: Mapped[str] = mapped_column(String(16))  # HOUSEHOLD, CASEWORKER, ...
    note: Mapped[str | None] = mapped_column(Text)
    review_due_by: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(36))  # client ID; None: the feed
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A retry with the same key (per client) answers the report recorded first.
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("uq_change_report_idempotency", "recorded_by", "idempotency_key", unique=True),
    )


class Alert(Base):
    """A household proactive discovery (主动发现) found in need, by one rule.

    At most one alert per household and rule is not RESOLVED (a partial unique index):
    discovery updates it while the condition holds and resolves it when it clears.
    """

    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(
        ForeignKey(_HOUSEHOLD, ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)  # JSON: department, fact, value, threshold
    rules_version: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(36))  # client ID
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    referral_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index(
            "uq_alert_active",
            "household_id",
            "rule",
            unique=True,
            sqlite_where=text("state != 'RESOLVED'"),
            postgresql_where=text("state != 'RESOLVED'"),
        ),
        Index("ix_alert_rule_state", "rule", "state", "household_id"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Referral(Base):
    """One department asking another to act for a household (一门受理、协同办理)."""

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    from_department: Mapped[str] = mapped_column(String(32))
    to_department: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    alert_id: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(16))
    response_due_on: Mapped[date] = mapped_column(Date)
    completion_due_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(36))  # client ID
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)
    # A retry with the same key (per client) answers the referral made first.
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_referral_to_state", "to_department", "state", "created_at"),
        Index("ix_referral_from_state", "from_department", "state", "created_at"),
        Index("uq_referral_idempotency", "created_by", "idempotency_key", unique=True),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ReferralEvent(Base):
    """One step of a referral's history: who moved it from which state to which, when."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_id: Mapped[str] = mapped_column(String(36))
    department: Mapped[str | None] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class RecordedCharityAid(Base):
    """Aid a charity recorded through the hub; a retried request records it once."""

    __tablename__ = "charity_aid"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    # What the request said, hashed: the same key with another content is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    given_on: Mapped[date] = mapped_column(Date)
    project_name: Mapped[str] = mapped_column(String(128))
    beneficiary_id_number: Mapped[str | None] = mapped_column(String(18))
    recorded_by: Mapped[str] = mapped_column(String(36))  # client ID
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_charity_aid_key", "organisation_id", "idempotency_key", unique=True),
    )
