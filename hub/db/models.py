"""SQLAlchemy models of the hub's own tables. Every change here is a migration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, MetaData, String
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
    district: Mapped[str] = mapped_column(String(6), index=True)
    street: Mapped[str] = mapped_column(String(64))
    hukou_type: Mapped[str] = mapped_column(String(8))
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    upstream_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fingerprint: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_household_index_district_street", "district", "street"),)


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

    __table_args__ = (Index("ix_household_index_enrollment_category", "category", "status"),)


class SyncCursor(Base):
    """How far a source's change feed has been read."""

    __tablename__ = "sync_cursor"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    updated_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
