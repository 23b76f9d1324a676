"""The hub's own Ed25519 signing keys (responses to partners, audit checkpoints)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.models import Base
from hub.db.types import UTCDateTime


class SigningKey(Base):
    """One key pair. The newest signs; every key stays published for verification until
    retired, so that what an older key signed can still be checked."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, base64url
    private_sealed: Mapped[str] = mapped_column(Text)  # raw 32 bytes, sealed (hub.keys)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
