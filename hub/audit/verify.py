"""Checking the audit log's hash chain, and its head for anchoring elsewhere."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.chain import GENESIS, entry_hash
from hub.db.models import AuditDisclosure, AuditEntry

PAGE_SIZE = 1000  # entries verify() holds in memory at a time


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where the log stops being the chain that was written."""

    seq: int
    reason: str


async def verify(
    sessions: async_sessionmaker[AsyncSession],
    *,
    anchor: tuple[int, str] | None = None,
    page_size: int = PAGE_SIZE,
) -> ChainBreak | None:
    """Walk the log in seq order, a page at a time; the first entry that breaks the chain.

    Reasons start with what is wrong: "altered" (the content does not match the hash),
    "gap" (a seq is missing or out of place), "deleted or altered" (the entry links to no
    entry in the log), "inserted" (entries were put in before it; the break names the
    first of them), "reordered" (it links to an entry that comes after it), "disclosure
    index" (the disclosure rows disagree with the entry's households). None: intact.

    Deleting the newest entries leaves an intact chain; pass ``anchor``, a ``head()``
    kept elsewhere, to check that the log still holds that entry with that hash.
    """
    prev_seq, prev_hash = 0, GENESIS
    after: int | None = None  # no lower bound on the first page: a forged seq 0 shows too
    while True:
        async with sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.seq).limit(page_size)
            if after is not None:
                query = query.where(AuditEntry.seq > after)
            entries = (await session.scalars(query)).all()
            if not entries:
                break
            disclosed = await _disclosed(session, entries[0].seq, entries[-1].seq)
            for entry in entries:
                broken = await _check(session, entry, prev_seq, prev_hash, disclosed)
                if broken is not None:
                    return broken
                prev_seq, prev_hash = entry.seq, entry.hash
            after = entries[-1].seq
    if anchor is not None:
        return await _check_anchor(sessions, anchor)
    return None


async def _disclosed(session: AsyncSession, first: int, last: int) -> dict[int, set[str]]:
    disclosed: dict[int, set[str]] = {}
    for seq, household in await session.execute(
        select(AuditDisclosure.seq, AuditDisclosure.household_id).where(
            AuditDisclosure.seq >= first, AuditDisclosure.seq <= last
        )
    ):
        disclosed.setdefault(seq, set()).add(household)
    return disclosed


async def _check(
    session: AsyncSession,
    entry: AuditEntry,
    prev_seq: int,
    prev_hash: str,
    disclosed: dict[int, set[str]],
) -> ChainBreak | None:
    seq = entry.seq
    if seq != prev_seq + 1:
        place = f"follows seq {prev_seq}" if prev_seq else "is the first entry"
        return ChainBreak(seq, f"gap: seq {seq} {place}; entries were deleted or inserted")
    if entry.prev_hash != prev_hash:
        return await _misplaced(session, entry)
    if entry_hash(entry) != entry.hash:
        return ChainBreak(seq, f"altered: the content of seq {seq} does not match its hash")
    if _households(entry) != disclosed.get(seq, set()):
        return ChainBreak(
            seq, f"disclosure index: the households disclosed for seq {seq} are not its own"
        )
    return None


async def _misplaced(session: AsyncSession, entry: AuditEntry) -> ChainBreak:
    """Why an entry does not link to the one before it, judged by what it links to."""
    seq = entry.seq
    # A scan (hash has no index), but only once, at the break.
    linked = await session.scalar(
        select(AuditEntry.seq)
        .where(AuditEntry.hash == entry.prev_hash)
        .order_by(AuditEntry.seq)
        .limit(1)
    )
    if linked is None:
        return ChainBreak(seq, f"deleted or altered: seq {seq} links to no entry in the log")
    if linked >= seq:
        return ChainBreak(seq, f"reordered: seq {seq} links to seq {linked}, which follows it")
    # It links further back: what lies between was put in after the fact, so the first of
    # those is the first bad entry, even if whoever forged it got its hash right.
    return ChainBreak(
        linked + 1,
        f"inserted: seq {seq} links back to seq {linked}, "
        f"so seq {linked + 1}..{seq - 1} were inserted",
    )


def _households(entry: AuditEntry) -> set[str] | None:
    try:
        households = json.loads(entry.households)
    except ValueError:
        return None
    if not isinstance(households, list) or not all(isinstance(h, str) for h in households):
        return None
    return set(households)


async def _check_anchor(
    sessions: async_sessionmaker[AsyncSession], anchor: tuple[int, str]
) -> ChainBreak | None:
    seq, expected = anchor
    async with sessions() as session:
        stored = await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
    if stored is None:
        return ChainBreak(seq, f"deleted: the anchored seq {seq} is no longer in the log")
    if stored != expected:
        return ChainBreak(
            seq, f"altered: seq {seq} no longer has the anchored hash; the chain was rebuilt"
        )
    return None


async def head(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, str] | None:
    """The newest entry's seq and hash, or None for an empty log.

    Deleting the newest entries cannot be seen from inside the log, since what is left
    still links up; nor can a chain rebuilt by someone who knows the encoding. Record the
    head somewhere the database's writers cannot change (a ticket, a signed message,
    another system) and pass it to ``verify(anchor=...)`` later.
    """
    async with sessions() as session:
        last = (
            await session.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).first()
    return (last[0], last[1]) if last is not None else None
