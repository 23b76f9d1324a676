"""Signed checkpoints of the audit log's head, and their export beyond the database.

A checkpoint is the chain's head at one moment, ``(seq, hash)``, with the time and the
ID of the hub key that signed it (Ed25519, ``hub.signing``). The signature covers the
canonical encoding of those four values (``encode``), so neither the hub's database
administrators nor anyone else without ``HUB_SECRET_KEY`` can make or alter one.

What they catch, checked by ``hub.audit.checkpoint_checks`` beside the chain walk
(``hub audit verify``): deleting the newest entries (a checkpoint names a seq the log no
longer holds) and rebuilding the chain from some entry on with valid hashes (a
checkpoint's seq no longer has the hash it signed), for every entry a checkpoint covers;
entries newer than the newest checkpoint are covered once the next one is taken.
Deleting the checkpoint rows as well is caught through the export file: a JSON line per
checkpoint, appended (and fsynced) to a file on storage the database's administrators
cannot write (``HUB_AUDIT_CHECKPOINT_EXPORT``).

Several workers: each takes checkpoints at the interval, deciding under the audit
appenders' lock, so that the second finds the first one's checkpoint and makes none;
one checkpoint per seq at most (the table's key).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import signing
from hub.audit.chain import _lock
from hub.db.checkpoints import AuditCheckpoint
from hub.db.models import AuditEntry

log = logging.getLogger(__name__)

KIND = "hub.audit.checkpoint/1"  # the ``type`` of an exported line
# Put before the signed JSON, so that no other message the same key signs (a response to
# a partner) can be passed off as a checkpoint, nor a checkpoint as one of those.
DOMAIN = b"hub audit checkpoint v1\n"
ENTRIES_POLL = 5.0  # seconds between looks at the log when checkpoints follow entries
STOP_GRACE = 5.0  # seconds a stopping hub waits for a checkpoint being taken


def _now() -> datetime:
    return datetime.now(UTC)


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def encode(*, seq: int, hash: str, at: datetime, kid: str) -> bytes:
    """What is signed: ``DOMAIN`` then JSON of the four values, sorted keys, no spaces, the
    time in ISO 8601 UTC with microseconds."""
    content = {"at": utc_text(at), "hash": hash, "kid": kid, "seq": seq}
    return DOMAIN + json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head ``(seq, hash)`` at ``at``, signed by key ``kid``."""

    seq: int
    hash: str
    at: datetime
    kid: str
    signature: str  # base64url, unpadded

    def __str__(self) -> str:
        return f"seq {self.seq}  {self.hash}  {utc_text(self.at)}  key {self.kid}"

    def signed(self) -> bytes:
        return encode(seq=self.seq, hash=self.hash, at=self.at, kid=self.kid)

    def line(self) -> str:
        """The checkpoint as one line of the export file (JSON, no newline)."""
        return json.dumps(
            {
                "type": KIND,
                "seq": self.seq,
                "hash": self.hash,
                "at": utc_text(self.at),
                "kid": self.kid,
                "signature": self.signature,
            },
            separators=(",", ":"),
        )

    @classmethod
    def of(cls, row: AuditCheckpoint) -> Checkpoint:
        return cls(row.seq, row.hash, row.at.astimezone(UTC), row.kid, row.signature)

    @classmethod
    def parse(cls, line: str) -> Checkpoint:
        """A checkpoint from an export line; ValueError naming what is wrong."""
        try:
            data = json.loads(line)
        except ValueError:
            raise ValueError("is not JSON") from None
        if not isinstance(data, dict) or data.get("type") != KIND:
            raise ValueError(f"is not a checkpoint (type {KIND!r})")
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("has no seq (a positive integer)")
        text: dict[str, str] = {}
        for name in ("hash", "at", "kid", "signature"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"has no {name}")
            text[name] = value
        try:
            moment = datetime.fromisoformat(text["at"])
        except ValueError:
            raise ValueError("has an 'at' that is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise ValueError("has an 'at' without a time zone")
        digest, kid, signature = text["hash"], text["kid"], text["signature"]
        return cls(seq, digest, moment.astimezone(UTC), kid, signature)


class CheckpointRefused(Exception):
    """The hub will not sign the head: the log no longer matches its newest checkpoint."""


@dataclass(frozen=True, slots=True)
class _State:
    head: tuple[int, str] | None
    last: AuditCheckpoint | None


async def _state(session: AsyncSession) -> _State:
    head = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    last = await session.scalar(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)
    )
    return _State((head[0], head[1]) if head is not None else None, last)


def _due(state: _State, now: datetime, every: timedelta | None, entries: int | None) -> bool:
    if state.head is None:
        return False  # nothing to sign
    last = state.last
    if last is None:
        return True
    if state.head[0] == last.seq:
        return False  # this head is signed already
    if every is None and entries is None:
        return True  # on demand
    old = every is not None and now - last.at >= every
    many = entries is not None and state.head[0] - last.seq >= entries
    return old or many


async def take(
    sessions: async_sessionmaker[AsyncSession],
    ring: signing.Ring,
    *,
    every: timedelta | None = None,
    entries: int | None = None,
    clock: Callable[[], datetime] = _now,
) -> Checkpoint | None:
    """Sign the chain's head now and store the checkpoint; None if there is nothing new.

    With ``every`` or ``entries``, only when due: the newest checkpoint is at least
    ``every`` old, or at least ``entries`` entries behind the head. Raises
    ``CheckpointRefused`` rather than sign a log that no longer holds its newest
    checkpoint (``hub audit verify`` says what happened).
    """
    scheduled = every is not None or entries is not None
    if scheduled:
        # A look without the lock first: most ticks find nothing due, and the lock would
        # hold up every request's audit entry for nothing.
        async with sessions() as session:
            if not _due(await _state(session), clock(), every, entries):
                return None
    async with sessions() as session, session.begin():
        await _lock(session)  # the appenders' lock: the head cannot move, takers queue
        state = await _state(session)
        now = clock()
        if state.last is not None:
            await _still_holds(session, state.last)
        if not _due(state, now, every, entries):
            return None
        assert state.head is not None
        seq, digest = state.head
        kid = ring.signer.kid
        signature = signing.b64url(ring.signer.sign(encode(seq=seq, hash=digest, at=now, kid=kid)))
        row = AuditCheckpoint(seq=seq, hash=digest, at=now, kid=kid, signature=signature)
        session.add(row)
    return Checkpoint(seq, digest, now.astimezone(UTC), kid, signature)


async def _still_holds(session: AsyncSession, last: AuditCheckpoint) -> None:
    found = await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == last.seq))
    if found != last.hash:
        what = "no longer holds" if found is None else "no longer has the signed hash of"
        raise CheckpointRefused(
            f"the audit log {what} seq {last.seq} (checkpoint of {utc_text(last.at)}): "
            "not signing it; run 'hub audit verify'"
        )


async def listing(
    sessions: async_sessionmaker[AsyncSession], *, limit: int | None = None
) -> list[Checkpoint]:
    """Stored checkpoints, newest first (all of them without ``limit``)."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc())
    if limit is not None:
        query = query.limit(limit)
    async with sessions() as session:
        return [Checkpoint.of(row) for row in await session.scalars(query)]


# --- the export file --------------------------------------------------------------------


def _append(path: Path, checkpoints: Sequence[Checkpoint]) -> None:
    data = "".join(c.line() + "\n" for c in checkpoints).encode()
    created = not path.exists()
    # O_APPEND: every write lands at the end, whatever else writes the file; the lock
    # keeps two workers' lines whole; fsync: the line is on disk before we say so.
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        end = os.lseek(fd, 0, os.SEEK_END)
        if end and os.pread(fd, 1, end - 1) != b"\n":
            data = b"\n" + data  # a line cut short by a crash stays a line of its own
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock
    if created:
        # The new file's name must survive a crash too.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


async def export(path: Path, checkpoints: Sequence[Checkpoint]) -> None:
    """Append ``checkpoints`` to the export file, one JSON line each, and fsync it."""
    if checkpoints:
        await asyncio.to_thread(_append, path, checkpoints)


def read_export(path: Path) -> list[tuple[int, Checkpoint | str]] | None:
    """Each non-empty line of an export file, by line number: its checkpoint, or what is
    wrong with it; None if there is no such file."""
    found: list[tuple[int, Checkpoint | str]] = []
    try:
        lines = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    with lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                found.append((number, Checkpoint.parse(line)))
            except ValueError as exc:
                found.append((number, str(exc)))
    return found


async def export_missing(sessions: async_sessionmaker[AsyncSession], path: Path) -> int:
    """Append to ``path`` every stored checkpoint it does not hold yet; how many."""
    lines = await asyncio.to_thread(read_export, path)
    held = {(c.seq, c.signature) for _, c in lines or () if isinstance(c, Checkpoint)}
    stored = sorted(await listing(sessions), key=lambda c: c.seq)
    missing = [c for c in stored if (c.seq, c.signature) not in held]
    await export(path, missing)
    return len(missing)


# --- taking them while the hub runs ------------------------------------------------------


class Checkpointer:
    """Takes a checkpoint every ``every`` seconds and once ``entries`` entries wait (either
    0: off) while the hub runs, and appends each to ``export_to``; every worker runs one."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keyring: signing.KeyRing,
        *,
        every: float,
        entries: int = 0,
        export_to: Path | None = None,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        if every <= 0 and entries <= 0:
            raise ValueError("a checkpointer needs an interval or a number of entries")
        self._every = timedelta(seconds=every) if every > 0 else None
        self._entries = entries if entries > 0 else None
        self._export_to = export_to
        self._tick = min(every or ENTRIES_POLL, ENTRIES_POLL) if entries > 0 else every
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._behind = False  # a checkpoint is stored that the export file may lack

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit checkpoints")

    async def aclose(self, *, grace: float = STOP_GRACE) -> None:
        """Stop; a checkpoint being taken is finished (and exported) first, if it takes
        less than ``grace`` seconds, so that no stored checkpoint misses the file."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def tick(self) -> Checkpoint | None:
        """Take a checkpoint if one is due, and export it (with any stored checkpoint an
        earlier tick failed to export)."""
        ring = await self._keyring.current()
        made = await take(self._sessions, ring, every=self._every, entries=self._entries)
        if made is not None:
            log.info("audit checkpoint: seq %d signed by %s", made.seq, made.kid)
        if self._export_to is None:
            return made
        if self._behind:
            # An export failed before: append every stored checkpoint the file lacks.
            added = await export_missing(self._sessions, self._export_to)
            log.info("audit checkpoints: %d appended to the export file", added)
        elif made is not None:
            self._behind = True  # until the line is on disk
            await export(self._export_to, [made])
        self._behind = False
        return made

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._tick)
            if self._stopping.is_set():
                return
            try:
                await self.tick()
            except CheckpointRefused as exc:
                log.error("audit checkpoint refused: %s", exc)
            except Exception:
                # The next tick tries again, and appends what this one did not export
                # ('hub audit checkpoints export' does it by hand).
                log.exception("audit checkpoint failed")
