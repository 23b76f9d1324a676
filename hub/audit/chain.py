"""Writing the audit log: records, their hash, and appends serialised across workers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from adapters.vocabulary import is_household_id
from hub.db.models import AuditDisclosure, AuditEntry
from hub.observability import metrics

log = logging.getLogger(__name__)

GENESIS = "0" * 64  # the prev_hash of the first entry
# Key of the PostgreSQL advisory lock held by appenders ("hub_audi" in ASCII); any other
# code that must keep appenders out for a moment takes the same lock.
LOCK_KEY = 0x6875_625F_6175_6469
# GRANTED: everything asked for was served; DENIED: households out of the caller's reach;
# NOT_FOUND: nothing asked for exists; PARTIAL: some of each; REFUSED: the request was
# refused as a whole (a lookup the caller may not make, too many lookups).
OUTCOMES = frozenset({"GRANTED", "DENIED", "NOT_FOUND", "PARTIAL", "REFUSED"})
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
    "details",
    "prev_hash",
)

# GraphQL field names of household sections ("civilAffairs", "medical"): letters only, so
# that no ID number, name or address can pass as one.
_SECTION = re.compile(r"[a-z][A-Za-z]{0,47}")
_ATTEMPTS = 3
_COLUMNS = (*HASHED_COLUMNS, "hash")
_LOOKUP_HASH = re.compile(r"[0-9a-f]{64}")
_CODE = re.compile(r"[A-Z][A-Z_]{0,47}")
# A listing's filter: district codes, category names and street names (Chinese only), so
# that nothing personal a caller typed into a filter is ever written to the log.
FILTER_VALUES = {
    "district": re.compile(r"[0-9]{6}"),
    "category": re.compile(r"[A-Z_]{1,32}"),
    "street": re.compile(r"[\u3400-\u9fff\uf900-\ufaff·]{1,32}|\*"),
}


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
    lookups: tuple[str, ...] = ()  # keyed hashes (hub.keys) of the ID numbers looked up
    listing: tuple[tuple[str, str], ...] | None = None  # a listing's filter, (name, value)
    aggregate: bool = False  # the listing was counted (totalCount)
    refused: str | None = None  # the code of a refusal of the whole request


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry: SHA-256 hex of every other column, canonically encoded.

    The encoding is JSON with sorted keys and no spaces, UTF-8, the time as ISO 8601 in
    UTC with microseconds, and ``households``, ``sections`` and ``details`` as their
    stored JSON text (so that any change to the stored bytes shows); ``details`` is left
    out when null.
    """
    content: dict[str, Any] = {name: getattr(entry, name) for name in HASHED_COLUMNS}
    content["at"] = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    if content["details"] is None:
        # Entries without details hash as those written before the column existed did.
        del content["details"]
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
    thread: Engine | None = None,
) -> list[AuditEntry]:
    """Append entries for ``records``, in order, in one transaction (one lock, one commit).

    With ``thread`` (a blocking engine on the same SQLite file), the transaction runs
    whole in a worker thread: one trip, where the async driver makes some twenty.
    """
    checked = [(record, *_validated(record)) for record in records]
    attempt = 1
    while True:
        try:
            started = time.perf_counter()
            appended = await _append_once(sessions, checked, clock, thread=thread)
            metrics.AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)
            metrics.AUDIT_BATCH_SIZE.observe(len(appended))
            return appended
        except IntegrityError:
            # The lock makes this unreachable; it is here so that a database set up in a
            # way that defeats the lock costs a retry, not a lost audit entry.
            if attempt >= _ATTEMPTS:
                raise
            log.warning("audit append lost a race for its seq (attempt %d)", attempt)
            attempt += 1


class _Trial(Exception):
    """Raised inside a trial append's transaction to undo it."""


async def trial_append(sessions: async_sessionmaker[AsyncSession], record: AccessRecord) -> None:
    """Append ``record`` as ``append`` would (lock, read the head, insert) and roll it back:
    raises what a real append would raise now, writes nothing and uses up no seq. For
    readiness checks."""
    try:
        await _append_once(sessions, [(record, *_validated(record))], _now, trial=True)
    except _Trial:
        return


Checked = Sequence[tuple[AccessRecord, tuple[str, ...], tuple[str, ...]]]


async def _append_once(
    sessions: async_sessionmaker[AsyncSession],
    checked: Checked,
    clock: Callable[[], datetime],
    *,
    trial: bool = False,
    thread: Engine | None = None,
) -> list[AuditEntry]:
    if thread is not None:
        return await asyncio.to_thread(_append_on, thread, checked, clock, trial)
    async with sessions() as session:
        return await session.run_sync(_append_in, checked, clock, trial)


def _append_on(
    engine: Engine, checked: Checked, clock: Callable[[], datetime], trial: bool
) -> list[AuditEntry]:
    with Session(engine) as session:
        return _append_in(session, checked, clock, trial)


def _append_in(
    session: Session, checked: Checked, clock: Callable[[], datetime], trial: bool
) -> list[AuditEntry]:
    with session.begin():
        _lock_in(session)
        last = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (last[0], last[1]) if last is not None else (0, GENESIS)
        entries = []
        for record, households, sections in checked:
            seq += 1
            entry = _entry(seq, prev_hash, record, households, sections, clock)
            prev_hash = entry.hash
            entries.append(entry)
        # Plain inserts (one statement for all entries, one for their disclosures), not
        # the ORM's unit of work: this runs for almost every request. The entries first:
        # the disclosures' foreign key needs them.
        session.execute(insert(AuditEntry), [{c: getattr(e, c) for c in _COLUMNS} for e in entries])
        disclosed = [
            {"seq": entry.seq, "household_id": h}
            for entry, (_, households, _) in zip(entries, checked, strict=True)
            for h in households
        ]
        if disclosed:
            session.execute(insert(AuditDisclosure), disclosed)
        if trial:
            raise _Trial
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
        at=utc(clock(), "clock()"),
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
        details=_details(record),
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

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 256,
        thread: Engine | None = None,
    ):
        self._sessions = sessions
        self._max_batch = max_batch
        # SQLite: a blocking engine on the same file, so that a batch is one trip to a
        # thread (``append_many``); PostgreSQL's driver needs none.
        self._thread = thread
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
                entries = await append_many(
                    self._sessions, [record for record, _ in batch], thread=self._thread
                )
            except Exception as exc:  # every waiter of the batch learns why
                metrics.AUDIT_FAILURES.inc()
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), entry in zip(batch, entries, strict=True):
                if not done.done():
                    done.set_result(entry)


async def _lock(session: AsyncSession) -> None:
    """Take the appenders' lock at the start of the session's transaction, until it ends."""
    await session.run_sync(_lock_in)


def _lock_in(session: Session) -> None:
    bind = {"mapper": AuditEntry}
    dialect = session.get_bind(AuditEntry).dialect.name
    if dialect == "postgresql":
        # Read committed, whatever the engine's default: under a snapshot taken before the
        # lock was granted, the last entry read would be stale.
        conn = session.connection(
            bind_arguments=bind, execution_options={"isolation_level": "READ COMMITTED"}
        )
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif dialect == "sqlite":
        # The sqlite3 driver begins transactions lazily, at the first write, so two
        # appenders could both read the same last entry. BEGIN IMMEDIATE takes the write
        # lock up front; a second appender waits in it (busy_timeout) until the first
        # commits, and then reads the entry the first one wrote.
        conn = session.connection(bind_arguments=bind)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        raise NotImplementedError(f"no append lock for {dialect}")


def _validated(record: AccessRecord) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The record's households and sections, deduplicated, once every field is checked.

    Messages name the offending position, never the value: a value that is refused here
    may be exactly the personal data that must not reach a log file.
    """
    households = tuple(dict.fromkeys(record.households))
    for i, household in enumerate(households):
        if not is_household_id(household):
            raise ValueError(f"households[{i}] is not a household ID (H and 13 digits)")
    sections = tuple(dict.fromkeys(record.sections))
    for i, section in enumerate(sections):
        if not isinstance(section, str) or not _SECTION.fullmatch(section):
            raise ValueError(f"sections[{i}] is not a section name")
    for i, looked_up in enumerate(record.lookups):
        if not isinstance(looked_up, str) or not _LOOKUP_HASH.fullmatch(looked_up):
            raise ValueError(f"lookups[{i}] is not a keyed hash (64 hex digits)")
    for name, value in record.listing or ():
        pattern = FILTER_VALUES.get(name)
        if pattern is None or not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"listing filter {name!r} is not a filter the log keeps")
    if record.refused is not None and not _CODE.fullmatch(record.refused):
        raise ValueError("refused is not a code")
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


def _details(record: AccessRecord) -> str | None:
    """What the record says beyond households and sections, as canonical JSON, or None."""
    details: dict[str, Any] = {}
    if record.lookups:
        details["lookups"] = list(dict.fromkeys(record.lookups))
    if record.listing is not None:
        details["filter"] = dict(record.listing)
    if record.aggregate:
        details["aggregate"] = True
    if record.refused is not None:
        details["refused"] = record.refused
    if not details:
        return None
    return json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)
