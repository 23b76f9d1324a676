"""SQLAlchemy models of the hub's own tables. Every change here is a migration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub.db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class IndexedHousehold(Base):
    """A household as the index knows it, synced from the civil-affairs change feed."""

    __tablename__ = "household_index"

    household_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    district: Mapped[str] = mapped_column(String(6))
    street: Mapped[str] = mapped_column(String(64))
    hukou_type: Mapped[str] = mapped_column(String(8))
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    upstream_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fingerprint: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Kept on the row as well as in the child tables, so that one read gives a whole
    # entry: members' ID numbers in household order, active categories, comma-separated.
    member_ids: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[str] = mapped_column(String(128), default="")
    # The assessed monthly income (核定收入) as last synced, in fen: a change of it through
    # the feed is a reported change (主动报告) that brings the next review forward.
    assessed_income_fen: Mapped[int | None] = mapped_column(BigInteger)

    # Pages are in household-ID order within a district or a street: each index serves
    # one such filter as a range scan that stops at the page's end.
    __table_args__ = (
        Index("ix_household_index_district_id", "district", "household_id"),
        Index("ix_household_index_district_street_id", "district", "street", "household_id"),
    )


class IndexedMember(Base):
    """A member's ID number, for finding a household by any of its members."""

    __tablename__ = "household_index_member"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    household_id: Mapped[str] = mapped_column(
        ForeignKey("household_index.household_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()


class IndexedEnrollment(Base):
    """A household's standing in one assistance category, for filtering and scheduling."""

    __tablename__ = "household_index_enrollment"

    household_id: Mapped[str] = mapped_column(
        ForeignKey("household_index.household_id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    since: Mapped[date] = mapped_column(Date)
    income_stable: Mapped[bool] = mapped_column(Boolean)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_household_index_enrollment_category_id", "category", "status", "household_id"),
    )


class SyncCursor(Base):
    """How far a source's change feed has been read."""

    __tablename__ = "sync_cursor"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    updated_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Client(Base):
    """Who may call the hub: an agency, a charity, a partner region, an auditor, an operator."""

    __tablename__ = "client"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Agencies: their department (a Source value) and, optionally, the area they serve.
    department: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(6))
    street: Mapped[str | None] = mapped_column(String(64))
    # Charities: their organisation ID in the charity federation's register.
    organisation_id: Mapped[str | None] = mapped_column(String(64))
    purposes: Mapped[str] = mapped_column(String(256))  # comma-separated Purpose values
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Token(Base):
    """A bearer token of a client, stored only as its SHA-256 (tokens are random, 256 bits)."""

    __tablename__ = "token"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Consent(Base):
    """A household's consent to share its data with one charity (or any), for a purpose."""

    __tablename__ = "consent"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(String(32), index=True)
    organisation_id: Mapped[str | None] = mapped_column(String(64))  # None: any charity
    purpose: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(36))  # client ID
    version: Mapped[int] = mapped_column()

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AuditEntry(Base):
    """One access to household data, granted or denied; append-only and hash-chained.

    ``seq`` is assigned by the appender under a lock, without gaps, and ``hash`` covers
    every other column and the previous entry's hash, so that an altered, deleted,
    inserted or reordered entry breaks the chain.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_id: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str | None] = mapped_column(String(36))
    client_kind: Mapped[str | None] = mapped_column(String(16))
    token_id: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(128))
    households: Mapped[str] = mapped_column(Text)  # JSON list of household IDs
    sections: Mapped[str] = mapped_column(Text)  # JSON list of section names
    outcome: Mapped[str] = mapped_column(String(16))
    break_glass: Mapped[bool] = mapped_column(Boolean)
    justification: Mapped[str | None] = mapped_column(Text)
    # JSON: keyed hashes of ID numbers looked up, a listing's filter, a refusal's code.
    details: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditDisclosure(Base):
    """Which households an audit entry concerns: an index for ``disclosures(householdId)``."""

    __tablename__ = "audit_disclosure"

    seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_log.seq", ondelete="CASCADE"), primary_key=True
    )
    household_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
