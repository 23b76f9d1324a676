"""Clients and their tokens: created, listed, disabled, issued, revoked, authenticated.

A token is 256 random bits, shown once when issued; the hub keeps only its SHA-256, so
a copy of the database does not hand out working tokens. (A fast hash is right here:
unlike passwords, such tokens cannot be guessed, so no stretching is needed.)
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import District, Source
from hub.auth import breakglass
from hub.auth.principal import DEFAULT_PURPOSES, ClientKind, Principal, Purpose
from hub.db.models import Client, Token

TOKEN_PREFIX = "hub_"  # noqa: S105 (a prefix, not a secret)


class ClientError(ValueError):
    """A client or token request that cannot be carried out, with a message for the user."""


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: str
    client_id: str
    secret: str  # shown once
    expires_at: datetime


async def add_client(
    sessions: async_sessionmaker[AsyncSession],
    *,
    name: str,
    kind: ClientKind,
    department: Source | None = None,
    district: District | None = None,
    street: str | None = None,
    organisation_id: str | None = None,
    purposes: Iterable[Purpose] | None = None,
) -> Client:
    """Register a client; its purposes default to those its kind may declare."""
    if kind is ClientKind.AGENCY and department is None:
        raise ClientError("an agency needs its department")
    if kind is not ClientKind.AGENCY and (department or district or street):
        raise ClientError("only agencies have a department or an area")
    if street is not None and district is None:
        raise ClientError("a street limit needs its district")
    if kind is ClientKind.CHARITY and not organisation_id:
        raise ClientError("a charity needs its organisation ID")
    chosen = frozenset(purposes) if purposes else DEFAULT_PURPOSES[kind]
    if not chosen <= DEFAULT_PURPOSES[kind]:
        extra = ", ".join(sorted(p.value for p in chosen - DEFAULT_PURPOSES[kind]))
        raise ClientError(f"a {kind.value.lower()} client may not declare {extra}")
    async with sessions.begin() as session:
        if await session.scalar(select(Client.id).where(Client.name == name)):
            raise ClientError(f"a client named {name!r} exists already")
        client = Client(
            id=str(uuid.uuid4()),
            name=name,
            kind=kind.value,
            department=department.value if department else None,
            district=district.code if district else None,
            street=street,
            organisation_id=organisation_id,
            purposes=",".join(sorted(p.value for p in chosen)),
            enabled=True,
            created_at=_now(),
        )
        session.add(client)
    return client


async def list_clients(sessions: async_sessionmaker[AsyncSession]) -> list[Client]:
    async with sessions() as session:
        return list(await session.scalars(select(Client).order_by(Client.name)))


async def find_client(session: AsyncSession, name_or_id: str) -> Client:
    client = await session.scalar(
        select(Client).where((Client.id == name_or_id) | (Client.name == name_or_id))
    )
    if client is None:
        raise ClientError(f"no client {name_or_id!r}")
    return client


async def set_enabled(
    sessions: async_sessionmaker[AsyncSession], name_or_id: str, *, enabled: bool
) -> Client:
    async with sessions.begin() as session:
        client = await find_client(session, name_or_id)
        client.enabled = enabled
    return client


async def issue_token(
    sessions: async_sessionmaker[AsyncSession], client: str, *, ttl: timedelta
) -> IssuedToken:
    """A new token for the client (by name or ID), valid for ``ttl``."""
    if ttl <= timedelta(0):
        raise ClientError("a token must be valid for some time")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        owner = await find_client(session, client)
        if not owner.enabled:
            raise ClientError(f"client {owner.name!r} is disabled")
        token = Token(
            id="tk_" + secrets.token_hex(6),
            client_id=owner.id,
            token_hash=hash_token(secret),
            created_at=_now(),
            expires_at=_now() + ttl,
        )
        session.add(token)
    return IssuedToken(token.id, owner.id, secret, token.expires_at)


async def list_tokens(
    sessions: async_sessionmaker[AsyncSession], client: str | None = None
) -> list[tuple[Token, Client]]:
    async with sessions() as session:
        query = select(Token, Client).join(Client).order_by(Client.name, Token.created_at)
        if client is not None:
            owner = await find_client(session, client)
            query = query.where(Token.client_id == owner.id)
        return [(t, c) for t, c in await session.execute(query)]


async def revoke_token(sessions: async_sessionmaker[AsyncSession], token_id: str) -> Token:
    async with sessions.begin() as session:
        token = await session.get(Token, token_id)
        if token is None:
            raise ClientError(f"no token {token_id!r}")
        if token.revoked_at is None:
            token.revoked_at = _now()
    return token


class AuthError(Exception):
    """Why a request is refused at the door; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def authenticate(
    session: AsyncSession,
    *,
    authorization: str | None,
    purpose: str | None,
    break_glass: bytes | None = None,
) -> Principal:
    """The principal behind an ``Authorization: Bearer`` header and an ``X-Purpose``.

    ``break_glass`` is the raw ``X-Break-Glass`` header (see ``hub.auth.breakglass``).
    """
    scheme, _, raw = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise AuthError(
            401, "UNAUTHENTICATED", "an 'Authorization: Bearer <token>' header is required"
        )
    # Plain columns, not ORM objects: this runs on every request.
    token = (
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
            .where(Token.token_hash == hash_token(raw.strip()))
        )
    ).first()
    if token is None:
        raise AuthError(401, "UNAUTHENTICATED", "the token is not valid")
    client = token
    if token.revoked_at is not None:
        raise AuthError(401, "UNAUTHENTICATED", "the token has been revoked")
    if token.expires_at <= _now():
        raise AuthError(401, "UNAUTHENTICATED", "the token has expired")
    if not client.enabled:
        raise AuthError(401, "UNAUTHENTICATED", "the client is disabled")
    allowed = {Purpose(p) for p in client.purposes.split(",") if p}
    names = ", ".join(sorted(p.value for p in allowed))
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
    if declared not in allowed:
        raise AuthError(
            403,
            "PURPOSE_NOT_ALLOWED",
            f"this client may not declare {declared.value}; it may declare {names}",
        )
    kind = ClientKind(client.kind)
    justification: str | None = None
    if break_glass is not None and break_glass.strip():
        if kind is not ClientKind.AGENCY:
            raise AuthError(403, "BREAK_GLASS_NOT_ALLOWED", "only agencies may break the glass")
        try:
            justification = breakglass.check(breakglass.decode(break_glass))
        except breakglass.JustificationProblem as problem:
            raise AuthError(400, problem.code, problem.message) from None
    return Principal(
        client_id=client.client_id,
        client_name=client.name,
        kind=kind,
        token_id=token.id,
        purpose=declared,
        department=Source(client.department) if client.department else None,
        district=District(client.district) if client.district else None,
        street=client.street,
        organisation_id=client.organisation_id,
        break_glass=justification,
    )
