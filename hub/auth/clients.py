"""Clients and their tokens: created, listed, disabled, issued, revoked, authenticated.

A token is 256 random bits, shown once when issued; the hub keeps only its SHA-256, so
a copy of the database does not hand out working tokens. (A fast hash is right here:
unlike passwords, such tokens cannot be guessed, so no stretching is needed.)
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import District, Source
from hub.auth import revocations
from hub.auth.credentials import hash_token
from hub.auth.principal import DEFAULT_PURPOSES, ClientKind, Purpose
from hub.db.models import Client, Token

TOKEN_PREFIX = "hub_"  # noqa: S105 (a prefix, not a secret)


class ClientError(ValueError):
    """A client or token request that cannot be carried out, with a message for the user."""


def _now() -> datetime:
    return datetime.now(UTC)


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
    await revocations.announce(sessions)  # workers drop what they cached of it
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
    await revocations.announce(sessions)  # the next request with it is refused, anywhere
    return token
