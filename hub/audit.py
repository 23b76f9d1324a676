"""The tamper-evident audit log: who saw which sections of which household, when and why.

Every read of household data appends one entry. Entries form a hash chain: ``seq`` counts
up from 1 without gaps, ``prev_hash`` is the previous entry's ``hash`` (64 zeros for the
first), and ``hash`` is SHA-256 over a canonical encoding of every other column, so that
altering, deleting, inserting or reordering entries breaks the chain where it happened;
``verify`` walks the chain and names the first entry that does not fit.

The log holds no personal values: household IDs and section names only, checked on the
way in, beside the caller's identity, purpose and (for break-glass access) justification.

Appenders are serialised, since each entry needs the one before it: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by starting the transaction with
``BEGIN IMMEDIATE`` (the database's single write lock). Both are taken before the last
entry is read and held until the new one commits, across processes and engines.

Two things the chain cannot show by itself: that its newest entries were deleted (the
rest still links up), and that someone with write access who knows this encoding rebuilt
every hash from some entry onwards. Both show against a head (``head()``) recorded
somewhere the database's writers cannot reach, passed back to ``verify(anchor=...)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.models import AuditDisclosure, AuditEntry

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # the prev_hash of the first entry
# Key of the PostgreSQL advisory lock held by appenders ("hub_audi" in ASCII); any other
# code that must keep appenders out for a moment takes the same lock.
LOCK_KEY = 0x6875_625F_6175_6469
OUTCOMES = frozenset({"GRANTED", "DENIED", "PARTIAL"})
# The columns the hash covers: all but ``hash`` itself. Spelled out rather than read from
# the table so that a new column cannot silently change the hashes of existing entries;
# a test keeps this list and the table in step.
HASHED_COLUMNS = (
    "seq",
    "at",
    "request_id",
    "client_id",
    "client_kind",
    "token_id",
    "purpose",
    "operation",
    "households",
    "sections",
    "outcome",
    "break_glass",
    "justification",
    "prev_hash",
)
PAGE_SIZE = 1000  # entries verify() holds in memory at a time

_HOUSEHOLD_ID = re.compile(r"H[0-9]{13}")
# GraphQL field names of household sections ("civilAffairs", "medical"): letters only, so
# that no ID number, name or address can pass as one.
_SECTION = re.compile(r"[a-z][A-Za-z]{0,47}")
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One access to household data, as the caller reports it to ``append``.

    There is deliberately no field for personal values: households are named by their
    household ID and sections by name; ``append`` rejects anything else.
    """

    request_id: str
    client_id: str | None
    client_kind: str | None
    token_id: str | None
    purpose: str | None
    operation: str
    households: tuple[str, ...]  # household IDs (H + 13 digits)
    sections: tuple[str, ...]  # section names, e.g. "civilAffairs", "medical"
    outcome: str  # GRANTED, DENIED or PARTIAL
    break_glass: bool = False
    justification: str | None = None  # the caller's own words; required for break-glass


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where the log stops being the chain that was written."""

    seq: int
    reason: str


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry: SHA-256 hex of every other column, canonically encoded.

    The encoding is JSON with sorted keys and no spaces, UTF-8, the time as ISO 8601 in
    UTC with microseconds, and ``households`` and ``sections`` as their stored JSON text
    (so that any change to the stored bytes shows).
    """
    content: dict[str, Any] = {name: getattr(entry, name) for name in HASHED_COLUMNS}
    content["at"] = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


async def append(
    sessions: async_sessionmaker[AsyncSession],
    record: AccessRecord,
    *,
    clock: Callable[[], datetime] = _now,
) -> AuditEntry:
    """Append one entry for ``record`` in a transaction of its own and return it.

    Raises ValueError, before touching the database, if a household is not a household ID,
    a section is not a section name, the outcome is unknown, a break-glass record has no
    justification, or a value does not fit its column. The time is read from ``clock``
    under the lock, so that times never go backwards along the chain on one clock.
    """
    (entry,) = await append_many(sessions, [record], clock=clock)
    return entry


async def append_many(
    sessions: async_sessionmaker[AsyncSession],
    records: Sequence[AccessRecord],
    *,
    clock: Callable[[], datetime] = _now,
) -> list[AuditEntry]:
    """Append entries for ``records``, in order, in one transaction (one lock, one commit)."""
    checked = [(record, *_validated(record)) for record in records]
    attempt = 1
    while True:
        try:
            return await _append_once(sessions, checked, clock)
        except IntegrityError:
            # The lock makes this unreachable; it is here so that a database set up in a
            # way that defeats the lock costs a retry, not a lost audit entry.
            if attempt >= _ATTEMPTS:
                raise
            log.warning("audit append lost a race for its seq (attempt %d)", attempt)
            attempt += 1


async def _append_once(
    sessions: async_sessionmaker[AsyncSession],
    checked: Sequence[tuple[AccessRecord, tuple[str, ...], tuple[str, ...]]],
    clock: Callable[[], datetime],
) -> list[AuditEntry]:
    async with sessions() as session, session.begin():
        await _lock(session)
        last = (
            await session.execute(
                select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
            )
        ).first()
        seq, prev_hash = (last[0], last[1]) if last is not None else (0, GENESIS)
        entries = []
        for record, households, sections in checked:
            seq += 1
            entry = _entry(seq, prev_hash, record, households, sections, clock)
            prev_hash = entry.hash
            entries.append(entry)
        session.add_all(entries)
        # The entries first: the disclosures' foreign key needs them, and the models have
        # no relationship that would tell the unit of work the order.
        await session.flush()
        session.add_all(
            AuditDisclosure(seq=entry.seq, household_id=h)
            for entry, (_, households, _) in zip(entries, checked, strict=True)
            for h in households
        )
        await session.flush()
        # Detached before the commit, so that they keep their values whatever the
        # factory's expire_on_commit says.
        for entry in entries:
            session.expunge(entry)
    return entries


def _entry(
    seq: int,
    prev_hash: str,
    record: AccessRecord,
    households: tuple[str, ...],
    sections: tuple[str, ...],
    clock: Callable[[], datetime],
) -> AuditEntry:
    entry = AuditEntry(
        seq=seq,
        at=_utc(clock(), "clock()"),
        request_id=record.request_id,
        client_id=record.client_id,
        client_kind=record.client_kind,
        token_id=record.token_id,
        purpose=record.purpose,
        operation=record.operation,
        households=json.dumps(list(households)),
        sections=json.dumps(list(sections)),
        outcome=record.outcome,
        break_glass=record.break_glass,
        justification=record.justification,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    return entry


class AuditWriter:
    """Appends the entries of concurrent requests together (group commit).

    Each caller waits until its own entry is committed, so no answer leaves before its
    audit entry is durable; under load one lock and one commit serve many requests,
    where one transaction per request would serialise them all on the append lock.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 256):
        self._sessions = sessions
        self._max_batch = max_batch
        self._pending: list[tuple[AccessRecord, asyncio.Future[AuditEntry]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def append(self, record: AccessRecord) -> AuditEntry:
        _validated(record)  # a bad record fails its own request, not a whole batch
        done: asyncio.Future[AuditEntry] = asyncio.get_running_loop().create_future()
        self._pending.append((record, done))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        entry: AuditEntry = await done
        return entry

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                entries = await append_many(self._sessions, [record for record, _ in batch])
            except Exception as exc:  # every waiter of the batch learns why
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), entry in zip(batch, entries, strict=True):
                if not done.done():
                    done.set_result(entry)


async def _lock(session: AsyncSession) -> None:
    """Take the appenders' lock at the start of the session's transaction, until it ends."""
    bind = {"mapper": AuditEntry}
    dialect = session.get_bind(AuditEntry).dialect.name
    if dialect == "postgresql":
        # Read committed, whatever the engine's default: under a snapshot taken before the
        # lock was granted, the last entry read would be stale.
        conn = await session.connection(
            bind_arguments=bind, execution_options={"isolation_level": "READ COMMITTED"}
        )
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif dialect == "sqlite":
        # The sqlite3 driver begins transactions lazily, at the first write, so two
        # appenders could both read the same last entry. BEGIN IMMEDIATE takes the write
        # lock up front; a second appender waits in it (busy_timeout) until the first
        # commits, and then reads the entry the first one wrote.
        conn = await session.connection(bind_arguments=bind)
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        raise NotImplementedError(f"no append lock for {dialect}")


def _validated(record: AccessRecord) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The record's households and sections, deduplicated, once every field is checked.

    Messages name the offending position, never the value: a value that is refused here
    may be exactly the personal data that must not reach a log file.
    """
    households = tuple(dict.fromkeys(record.households))
    for i, household in enumerate(households):
        if not isinstance(household, str) or not _HOUSEHOLD_ID.fullmatch(household):
            raise ValueError(f"households[{i}] is not a household ID (H and 13 digits)")
    sections = tuple(dict.fromkeys(record.sections))
    for i, section in enumerate(sections):
        if not isinstance(section, str) or not _SECTION.fullmatch(section):
            raise ValueError(f"sections[{i}] is not a section name")
    if record.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(sorted(OUTCOMES))}")
    if record.break_glass and not (record.justification or "").strip():
        raise ValueError("break-glass access needs a justification")
    for name in ("request_id", "client_id", "client_kind", "token_id", "purpose", "operation"):
        value = getattr(record, name)
        limit = getattr(AuditEntry.__table__.c[name].type, "length", None)
        if value is not None and limit is not None and len(value) > limit:
            # Checked here because SQLite would store it anyway and PostgreSQL would not.
            raise ValueError(f"{name} is longer than {limit} characters")
    return households, sections


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


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
        query = query.where(AuditEntry.at >= _utc(since, "since"))
    if until is not None:
        query = query.where(AuditEntry.at < _utc(until, "until"))
    # Newest by seq, the log's own order; times follow it as long as appenders' clocks agree.
    query = query.order_by(AuditEntry.seq.desc()).limit(limit)
    async with sessions() as session:
        return list((await session.scalars(query)).all())
