"""Reading the audit log: disclosures of a household, break-glass accesses to review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.chain import utc
from hub.db.models import AuditDisclosure, AuditEntry


async def disclosures(
    sessions: async_sessionmaker[AsyncSession],
    *,
    household_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries that concern a household, newest first, found through the disclosure index.

    ``since`` is inclusive and ``until`` exclusive; either may be None for no bound.
    """
    query = (
        select(AuditEntry)
        .join(AuditDisclosure, AuditDisclosure.seq == AuditEntry.seq)
        .where(AuditDisclosure.household_id == household_id)
    )
    return await _newest(sessions, query, since, until, limit)


async def break_glass_entries(
    sessions: async_sessionmaker[AsyncSession],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Break-glass entries, for review, newest first; ``since`` inclusive, ``until`` not."""
    query = select(AuditEntry).where(AuditEntry.break_glass.is_(True))
    return await _newest(sessions, query, since, until, limit)


async def lookups(
    sessions: async_sessionmaker[AsyncSession], *, keyed_hash: str, limit: int = 100
) -> list[AuditEntry]:
    """Entries that looked up the number with this keyed hash (``hub.keys``), newest first."""
    query = select(AuditEntry).where(AuditEntry.details.contains(f'"{keyed_hash}"'))
    return await _newest(sessions, query, None, None, limit)


async def _newest(
    sessions: async_sessionmaker[AsyncSession],
    query: Select[AuditEntry],
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditEntry]:
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if since is not None:
        query = query.where(AuditEntry.at >= utc(since, "since"))
    if until is not None:
        query = query.where(AuditEntry.at < utc(until, "until"))
    # Newest by seq, the log's own order; times follow it as long as appenders' clocks agree.
    query = query.order_by(AuditEntry.seq.desc()).limit(limit)
    async with sessions() as session:
        return list((await session.scalars(query)).all())
