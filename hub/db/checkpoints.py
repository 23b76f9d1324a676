"""Signed checkpoints of the audit log's head (``hub.audit.checkpoints``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models import Base
from hub.db.types import UTCDateTime


class AuditCheckpoint(Base):
    """The audit log's head at one moment, signed with the hub's key: at most one per seq.

    What is signed is ``(seq, hash, at, kid)`` in the canonical encoding of
    ``hub.audit.checkpoints``, so a row changed by hand no longer verifies.
    """

    __tablename__ = "audit_checkpoint"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))  # the hash of audit entry ``seq``
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kid: Mapped[str] = mapped_column(String(64))  # the signing key (hub.db.signing)
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, 64 bytes, base64url
