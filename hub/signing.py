"""The hub's signing keys: Ed25519, kept in its database, the private halves sealed.

The newest key that is not retired signs; every key not retired is published (as a JSON
Web Key Set) so that partners and auditors can verify what an older key signed after a
rotation. ``hub keys rotate`` adds a key; ``hub keys retire KID`` stops publishing one.
Private keys are sealed with a key derived from ``HUB_SECRET_KEY`` (``hub.keys``): a
copy of the database alone signs nothing.

Each process keeps the ring it read for ``ttl`` seconds, so that a rotation made by the
command line reaches every worker within that time; the old key stays valid meanwhile.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.signing import SigningKey
from hub.keys import Keys

_SEAL_CONTEXT = "signing key"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: Ed25519PublicKey
    created_at: datetime

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def jwk(self) -> dict[str, str]:
        """The key as a JSON Web Key (RFC 8037)."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.raw),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignerKey:
    """The key that signs now."""

    kid: str
    private: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


class KeyRingError(Exception):
    """A key that cannot be used (sealed with another secret, or unknown)."""


@dataclass(frozen=True)
class Ring:
    """The keys as read at one moment: the signer and everything published."""

    signer: SignerKey
    published: Sequence[PublicKey]

    def public(self, kid: str) -> PublicKey | None:
        return next((k for k in self.published if k.kid == kid), None)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.published]}


def _new_row(keys: Keys, now: datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    # The date for people, random bits so that two keys made the same day differ.
    kid = f"hub-{now:%Y%m%d}-{secrets.token_hex(4)}"
    return SigningKey(
        kid=kid,
        public_key=b64url(raw_public),
        private_sealed=keys.seal(b64url(raw_private), context=_SEAL_CONTEXT),
        created_at=now,
        retired_at=None,
    )


async def rotate(sessions: async_sessionmaker[AsyncSession], keys: Keys) -> str:
    """Add a key, which signs from now on; the ones before stay published. Its kid."""
    row = _new_row(keys, datetime.now(UTC))
    async with sessions.begin() as session:
        session.add(row)
    return row.kid


async def retire(sessions: async_sessionmaker[AsyncSession], kid: str) -> None:
    """Stop publishing (and signing with) a key. The last key cannot be retired."""
    async with sessions.begin() as session:
        live = (
            await session.scalars(select(SigningKey.kid).where(SigningKey.retired_at.is_(None)))
        ).all()
        if kid not in live:
            raise KeyRingError(f"no key {kid!r} in use (see hub keys list)")
        if len(live) == 1:
            raise KeyRingError("the last key in use cannot be retired; rotate first")
        await session.execute(
            update(SigningKey).where(SigningKey.kid == kid).values(retired_at=datetime.now(UTC))
        )


async def listing(sessions: async_sessionmaker[AsyncSession]) -> list[SigningKey]:
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(SigningKey).order_by(SigningKey.created_at, SigningKey.kid)
                )
            ).all()
        )


async def read(sessions: async_sessionmaker[AsyncSession], keys: Keys) -> Ring:
    """The ring as the database holds it; the first key is made on first need."""
    rows = [r for r in await listing(sessions) if r.retired_at is None]
    if not rows:
        await rotate(sessions, keys)
        rows = [r for r in await listing(sessions) if r.retired_at is None]
    newest = rows[-1]
    sealed = keys.unseal(newest.private_sealed, context=_SEAL_CONTEXT)
    if sealed is None:
        raise KeyRingError(
            f"signing key {newest.kid} was sealed with another HUB_SECRET_KEY; "
            "restore that secret, or rotate (hub keys rotate) and retire the old key"
        )
    return Ring(
        signer=SignerKey(newest.kid, Ed25519PrivateKey.from_private_bytes(unb64url(sealed))),
        published=[PublicKey(r.kid, _public(r.public_key), r.created_at) for r in rows],
    )


def _public(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(unb64url(encoded))


class KeyRing:
    """The ring of one process, read again after ``ttl`` seconds."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], keys: Keys, *, ttl: float = 60.0
    ) -> None:
        self._sessions = sessions
        self._keys = keys
        self._ttl = ttl
        self._ring: Ring | None = None
        self._read_at = 0.0

    async def current(self) -> Ring:
        if self._ring is None or time.monotonic() - self._read_at > self._ttl:
            self._ring = await read(self._sessions, self._keys)
            self._read_at = time.monotonic()
        return self._ring

    def forget(self) -> None:
        """Read the ring again at the next use (after a rotation in this process)."""
        self._ring = None
