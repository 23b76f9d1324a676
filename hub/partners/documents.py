"""Trusted documents: the only GraphQL a partner may run, registered in advance.

A document's ID is ``sha256:`` and the SHA-256 (hex) of its exact text. A partner sends
the ID (``{"documentId": "sha256:...", "variables": {...}}``, or Apollo's persisted-query
extension ``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "..."}}}``),
never the text: a body carrying a ``query`` is refused, and so is an ID not registered
for that partner (or for every partner).

The documents this hub's own partner adapter sends to other hubs (``adapters.partner``)
are built in: every hub runs this code, so they are the same everywhere, and a hub
partner may run them without an operator registering them (``hub partners documents
list`` shows them). Anything else is registered with ``hub partners documents add``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import partner as partner_adapter
from hub.db.partners import ALL_PARTNERS, TrustedDocument
from hub.partners import registry
from hub.partners.registry import PartnerError

DOCUMENT_ID = re.compile(r"sha256:[0-9a-f]{64}")
MAX_DOCUMENT = 20_000  # characters


def document_id(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


BUILT_IN: dict[str, str] = {document_id(t): t for t in partner_adapter.DOCUMENTS}


@dataclass(frozen=True)
class Registered:
    document_id: str
    partner: str  # a region code, or "*" for every partner; "built-in" for the hub's own
    operation_name: str | None
    added_at: datetime | None


def operation_name(text: str) -> str | None:
    """The name of the document's one operation; a clear error for anything else."""
    if len(text) > MAX_DOCUMENT:
        raise PartnerError(f"the document is longer than {MAX_DOCUMENT} characters")
    try:
        parsed = parse(text)
    except GraphQLSyntaxError as exc:
        raise PartnerError(f"the document is not GraphQL: {exc.message}") from None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise PartnerError("a trusted document holds exactly one operation")
    return operations[0].name.value if operations[0].name else None


async def add(
    sessions: async_sessionmaker[AsyncSession], text: str, *, partner: str | None = None
) -> str:
    """Register a document for one partner (a region code) or all; its ID."""
    name = operation_name(text)
    found = document_id(text)
    async with sessions.begin() as session:
        scope = ALL_PARTNERS
        if partner is not None:
            match = await registry.find(session, registry.region_code(partner))
            if match is None:
                raise PartnerError(f"no partner for region {partner!r} (see hub partners list)")
            scope = match[0].client_id
        await session.merge(
            TrustedDocument(
                document_id=found,
                partner=scope,
                text=text,
                operation_name=name,
                added_at=datetime.now(UTC),
            )
        )
    return found


async def remove(sessions: async_sessionmaker[AsyncSession], wanted: str) -> int:
    """Unregister a document (for every partner it was registered for); how many rows."""
    if wanted in BUILT_IN:
        raise PartnerError("a built-in document cannot be removed (partner hubs rely on it)")
    async with sessions.begin() as session:
        removed = await session.execute(
            delete(TrustedDocument).where(TrustedDocument.document_id == wanted)
        )
    count = int(getattr(removed, "rowcount", 0) or 0)
    if count == 0:
        raise PartnerError(f"no registered document {wanted!r}")
    return count


async def listing(sessions: async_sessionmaker[AsyncSession]) -> list[Registered]:
    partners = {p.client_id: p.region for p in await registry.listing(sessions)}
    async with sessions() as session:
        rows = (
            await session.scalars(select(TrustedDocument).order_by(TrustedDocument.added_at))
        ).all()
    built_in = [Registered(i, "built-in", operation_name(t), None) for i, t in BUILT_IN.items()]
    return built_in + [
        Registered(
            r.document_id,
            ALL_PARTNERS if r.partner == ALL_PARTNERS else partners.get(r.partner, r.partner),
            r.operation_name,
            r.added_at,
        )
        for r in rows
    ]


async def text_for(session: AsyncSession, wanted: str, client_id: str) -> str | None:
    """The text of a document this partner may run, or None."""
    if wanted in BUILT_IN:
        return BUILT_IN[wanted]
    return await session.scalar(
        select(TrustedDocument.text)
        .where(
            TrustedDocument.document_id == wanted,
            TrustedDocument.partner.in_([client_id, ALL_PARTNERS]),
        )
        .limit(1)
    )
