"""Partner regions (长三角): their keys, the documents they may run, the tokens they have
used, and the case transfers between this hub and theirs with the outbox that carries
them. Every change here is a migration.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models import Base
from hub.db.types import UTCDateTime

ALL_PARTNERS = "*"  # a trusted document any partner may run


class Partner(Base):
    """A partner region's hub: the client it calls as, and where this hub reaches it."""

    __tablename__ = "partner"

    client_id: Mapped[str] = mapped_column(
        ForeignKey("client.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(8), unique=True)  # JS, ZJ, AH...: its `iss`
    # Where this hub asks it (its partner API), and the `aud` its tokens need there.
    url: Mapped[str | None] = mapped_column(String(512))
    audience: Mapped[str | None] = mapped_column(String(128))
    # Its published keys, fetched and kept as ``PartnerKey`` rows of source JWKS.
    jwks_url: Mapped[str | None] = mapped_column(String(512))
    jwks_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerKey(Base):
    """One Ed25519 public key of a partner; several at once while it rotates."""

    __tablename__ = "partner_key"

    client_id: Mapped[str] = mapped_column(
        ForeignKey("partner.client_id", ondelete="CASCADE"), primary_key=True
    )
    kid: Mapped[str] = mapped_column(String(128), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    source: Mapped[str] = mapped_column(String(8))  # MANUAL (hub partners keys add) or JWKS
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrustedDocument(Base):
    """A GraphQL document a partner may run, registered in advance, by its SHA-256."""

    __tablename__ = "trusted_document"

    document_id: Mapped[str] = mapped_column(String(71), primary_key=True)  # sha256:<64 hex>
    partner: Mapped[str] = mapped_column(String(36), primary_key=True)  # client ID, or "*"
    text: Mapped[str] = mapped_column(Text)
    operation_name: Mapped[str | None] = mapped_column(String(128))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeenToken(Base):
    """A partner token's ``jti``, kept until the token expires: a second use is a replay.

    The primary key is the check: two workers (or a restarted one) that see the same token
    cannot both insert it.
    """

    __tablename__ = "partner_seen_token"

    client_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CaseTransfer(Base):
    """A household's case moving between regions (跨省转移): sent from here (OUTGOING) or
    received from a partner hub (INCOMING). ``remote_id`` is the sender's ID of an incoming
    transfer, unique per region, so that a message delivered twice makes one transfer."""

    __tablename__ = "case_transfer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    partner_region: Mapped[str] = mapped_column(String(8))
    remote_id: Mapped[str | None] = mapped_column(String(36))
    household_id: Mapped[str | None] = mapped_column(String(32), index=True)  # ours (OUTGOING)
    partner_household_id: Mapped[str | None] = mapped_column(String(32))  # theirs (INCOMING)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    moved_on: Mapped[date | None] = mapped_column(Date)
    members: Mapped[str] = mapped_column(Text)  # JSON: the members' ID numbers
    categories: Mapped[str] = mapped_column(Text)  # JSON: category, since
    note: Mapped[str | None] = mapped_column(Text)  # the receiving caseworker's
    requested_by: Mapped[str | None] = mapped_column(String(36))  # client ID (OUTGOING)
    decided_by: Mapped[str | None] = mapped_column(String(36))  # client ID (INCOMING)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("partner_region", "remote_id"),
        Index("ix_case_transfer_direction_state", "direction", "state", "created_at"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class OutboxMessage(Base):
    """A message to a partner hub, written in the transaction of the change it reports and
    delivered afterwards, again and again with backoff until the partner takes it."""

    __tablename__ = "outbox_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the message ID they see
    partner_region: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    transfer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    state: Mapped[str] = mapped_column(String(16))  # PENDING, DELIVERED, REJECTED
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_outbox_message_state_next", "state", "next_attempt_at"),)


class ReceivedMessage(Base):
    """A message taken from a partner hub, by its ID: the same message again changes nothing."""

    __tablename__ = "partner_received_message"

    partner_region: Mapped[str] = mapped_column(String(8), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
