"""From an ``Authorization: Bearer`` header to the caller, mostly without the database.

A token is looked up by its SHA-256 once, then kept in this worker's memory for a short
while (``ttl``), so that a busy caller costs no query per request. Revoking a token or
disabling a client takes effect on the next request all the same: every such change is
announced (``hub.auth.revocations``), and a cache filled under an earlier epoch is
dropped. Only valid credentials are kept; a refused token asks the database every time
(and counts against its address, ``hub.door.RefusalLimit``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.vocabulary import District, Source
from hub.auth import breakglass
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.caching import EpochCache
from hub.db.models import Client, Token


class AuthError(Exception):
    """Why a request is refused at the door; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def bearer_hash(authorization: str | None) -> str:
    """The hash of the bearer token in an ``Authorization`` header, or a 401."""
    scheme, _, raw = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AuthError(
            401, "UNAUTHENTICATED", "an 'Authorization: Bearer <token>' header is required"
        )
    return hash_token(raw.strip())


@dataclass(frozen=True, slots=True)
class Credential:
    """A token and its client, as stored."""

    token_id: str
    revoked_at: datetime | None
    expires_at: datetime
    client_id: str
    client_name: str
    kind: ClientKind
    enabled: bool
    purposes: frozenset[Purpose]
    department: Source | None
    district: District | None
    street: str | None
    organisation_id: str | None


async def find(session: AsyncSession, token_hash: str) -> Credential | None:
    """The credential stored for a token hash, if any (one query)."""
    row = (
        await session.execute(
            select(
                Token.id,
                Token.revoked_at,
                Token.expires_at,
                Client.id.label("client_id"),
                Client.name,
                Client.kind,
                Client.enabled,
                Client.purposes,
                Client.department,
                Client.district,
                Client.street,
                Client.organisation_id,
            )
            .join(Client)
            .where(Token.token_hash == token_hash)
        )
    ).first()
    if row is None:
        return None
    return Credential(
        token_id=row.id,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        client_id=row.client_id,
        client_name=row.name,
        kind=ClientKind(row.kind),
        enabled=row.enabled,
        purposes=frozenset(Purpose(p) for p in row.purposes.split(",") if p),
        department=Source(row.department) if row.department else None,
        district=District(row.district) if row.district else None,
        street=row.street,
        organisation_id=row.organisation_id,
    )


def principal(
    credential: Credential | None,
    *,
    purpose: str | None,
    break_glass: bytes | None,
    now: datetime,
) -> Principal:
    """The caller a credential stands for, declaring ``purpose``; or why not (AuthError).

    ``break_glass`` is the raw ``X-Break-Glass`` header (see ``hub.auth.breakglass``).
    """
    if credential is None:
        raise AuthError(401, "UNAUTHENTICATED", "the token is not valid")
    if credential.revoked_at is not None:
        raise AuthError(401, "UNAUTHENTICATED", "the token has been revoked")
    if credential.expires_at <= now:
        raise AuthError(401, "UNAUTHENTICATED", "the token has expired")
    if not credential.enabled:
        raise AuthError(401, "UNAUTHENTICATED", "the client is disabled")
    names = ", ".join(sorted(p.value for p in credential.purposes))
    if not purpose:
        raise AuthError(
            400, "PURPOSE_REQUIRED", f"an 'X-Purpose' header is required: one of {names}"
        )
    try:
        declared = Purpose(purpose.strip().upper())
    except ValueError:
        raise AuthError(
            400, "UNKNOWN_PURPOSE", f"unknown purpose; this client may declare {names}"
        ) from None
    if declared not in credential.purposes:
        raise AuthError(
            403,
            "PURPOSE_NOT_ALLOWED",
            f"this client may not declare {declared.value}; it may declare {names}",
        )
    justification: str | None = None
    if break_glass is not None and break_glass.strip():
        if credential.kind is not ClientKind.AGENCY:
            raise AuthError(403, "BREAK_GLASS_NOT_ALLOWED", "only agencies may break the glass")
        try:
            justification = breakglass.check(breakglass.decode(break_glass))
        except breakglass.JustificationProblem as problem:
            raise AuthError(400, problem.code, problem.message) from None
    return Principal(
        client_id=credential.client_id,
        client_name=credential.client_name,
        kind=credential.kind,
        token_id=credential.token_id,
        purpose=declared,
        department=credential.department,
        district=credential.district,
        street=credential.street,
        organisation_id=credential.organisation_id,
        break_glass=justification,
    )


class CredentialCache(EpochCache[str, Credential]):
    """Valid credentials by token hash, for ``ttl`` seconds and within one epoch of
    revocations (``hub.auth.revocations.REVOCATIONS``)."""


async def authenticate(
    session_factory: Callable[[], AsyncSession],
    cache: CredentialCache | None,
    *,
    authorization: str | None,
    purpose: str | None,
    break_glass: bytes | None = None,
) -> Principal:
    """The principal behind the request's headers: from the cache, else the database."""
    token_hash = bearer_hash(authorization)
    credential = cache.get(token_hash) if cache is not None else None
    if credential is None:
        read_in = cache.epoch() if cache is not None else None
        async with session_factory() as session:
            credential = await find(session, token_hash)
        if cache is not None and credential is not None and _valid(credential):
            cache.put(token_hash, credential, read_in=read_in)
    return principal(credential, purpose=purpose, break_glass=break_glass, now=datetime.now(UTC))


def _valid(credential: Credential) -> bool:
    return credential.revoked_at is None and credential.enabled
