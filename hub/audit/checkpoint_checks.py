"""Checking signed audit checkpoints: signatures, keys, and the chain they vouch for.

Keys. A checkpoint verifies with the key it names if that key is one the hub made (its
private half is sealed under this hub's ``HUB_SECRET_KEY``, so a key row put into the
table by hand does not count) and, if the key was retired since, the checkpoint is older
than its retirement: retiring a key stops it signing, not what it signed before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import signing
from hub.audit.checkpoints import Checkpoint, listing, read_export, utc_text
from hub.db.models import AuditEntry
from hub.db.signing import SigningKey
from hub.keys import Keys

_IN_CLAUSE = 500


@dataclass(frozen=True, slots=True)
class Finding:
    """A checkpoint that does not hold, where it was found, and why."""

    where: str  # "database" or "export file line N"
    seq: int | None
    reason: str

    def __str__(self) -> str:
        if self.seq is None:
            return f"{self.where}: {self.reason}"
        return f"checkpoint of seq {self.seq} ({self.where}): {self.reason}"


@dataclass
class CheckpointReport:
    """What ``verify_checkpoints`` found: counts, the newest checkpoint, and problems."""

    in_database: int = 0
    in_export: int | None = None  # None: no export file checked
    not_exported: int = 0  # stored checkpoints the export file does not hold (not a fault)
    newest: Checkpoint | None = None
    problems: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Key:
    public: Ed25519PublicKey | None  # None: a row whose public half cannot be read
    made_here: bool
    retired_at: datetime | None


def _key(row: SigningKey, keys: Keys) -> _Key:
    try:
        raw_public = signing.unb64url(row.public_key)
        public = Ed25519PublicKey.from_public_bytes(raw_public)
    except ValueError:
        return _Key(None, False, row.retired_at)
    sealed = keys.unseal(row.private_sealed, context=signing._SEAL_CONTEXT)
    made_here = False
    if sealed is not None:
        with contextlib.suppress(ValueError):
            private = Ed25519PrivateKey.from_private_bytes(signing.unb64url(sealed))
            made_here = (
                private.public_key().public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw
                )
                == raw_public
            )
    return _Key(public, made_here, row.retired_at)


def _signature_problem(checkpoint: Checkpoint, keys: dict[str, _Key]) -> str | None:
    key = keys.get(checkpoint.kid)
    if key is None or key.public is None:
        return f"signed by key {checkpoint.kid!r}, which the hub does not hold"
    if not key.made_here:
        return (
            f"signed by key {checkpoint.kid!r}, which this hub did not make (its private "
            "half is not sealed under this HUB_SECRET_KEY): a key put in by hand"
        )
    try:
        signature = signing.unb64url(checkpoint.signature)
        valid = len(signature) == 64 and signing.PublicKey(
            checkpoint.kid, key.public, checkpoint.at
        ).verify(checkpoint.signed(), signature)
    except ValueError:
        valid = False
    if not valid:
        return (
            f"forged: the signature does not verify with key {checkpoint.kid!r} "
            "(the checkpoint was altered or not made by the hub)"
        )
    if key.retired_at is not None and checkpoint.at > key.retired_at:
        return f"signed by key {checkpoint.kid!r} after it was retired ({utc_text(key.retired_at)})"
    return None


def _chain_problem(checkpoint: Checkpoint, hashes: dict[int, str]) -> str | None:
    found = hashes.get(checkpoint.seq)
    signed_at = utc_text(checkpoint.at)
    if found is None:
        return (
            f"deleted: the log no longer holds seq {checkpoint.seq}, which the checkpoint "
            f"signed at {signed_at} covers: entries were deleted"
        )
    if found != checkpoint.hash:
        return (
            f"rebuilt: seq {checkpoint.seq} no longer has the hash signed at {signed_at}; "
            "the chain was rewritten up to it"
        )
    return None


async def _hashes(
    sessions: async_sessionmaker[AsyncSession], seqs: Iterable[int]
) -> dict[int, str]:
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    async with sessions() as session:
        for start in range(0, len(wanted), _IN_CLAUSE):
            chunk = wanted[start : start + _IN_CLAUSE]
            rows = await session.execute(
                select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))
            )
            found.update((seq, digest) for seq, digest in rows)
    return found


async def verify_checkpoints(
    sessions: async_sessionmaker[AsyncSession], keys: Keys, *, export_file: Path | None = None
) -> CheckpointReport:
    """Check every stored checkpoint, and every line of ``export_file`` if given.

    Each must carry a valid signature of a key this hub made (not used after it was
    retired), and name a seq the log still holds with the hash it signed. A checkpoint
    of the export file must also still be in the database: a missing one was deleted.
    """
    report = CheckpointReport()
    stored = await listing(sessions)
    report.in_database = len(stored)
    report.newest = stored[0] if stored else None
    lines: list[tuple[int, Checkpoint | str]] = []
    if export_file is not None:
        try:
            read = await asyncio.to_thread(read_export, export_file)
        except OSError as exc:
            read = []
            report.problems.append(Finding("export file", None, f"cannot be read: {exc.strerror}"))
        if read is not None:
            lines = read
        elif stored:
            report.problems.append(
                Finding(
                    "export file",
                    None,
                    f"{export_file} does not exist, though {len(stored)} checkpoints were "
                    "taken: it was removed, or never written (hub audit checkpoints export)",
                )
            )
        report.in_export = sum(isinstance(c, Checkpoint) for _, c in lines)
    keys_by_kid = {row.kid: _key(row, keys) for row in await signing.listing(sessions)}
    exported = [(n, c) for n, c in lines if isinstance(c, Checkpoint)]
    hashes = await _hashes(sessions, [c.seq for c in stored] + [c.seq for _, c in exported])
    for checkpoint in sorted(stored, key=lambda c: c.seq):
        _check(report, "database", checkpoint, keys_by_kid, hashes)
    by_seq = {c.seq: c for c in stored}
    held = set()
    for number, found in lines:
        where = f"export file line {number}"
        if not isinstance(found, Checkpoint):
            report.problems.append(Finding(where, None, f"the line {found}"))
            continue
        held.add((found.seq, found.signature))
        if not _check(report, where, found, keys_by_kid, hashes):
            continue
        twin = by_seq.get(found.seq)
        if twin is None or twin.signature != found.signature:
            report.problems.append(
                Finding(
                    where,
                    found.seq,
                    f"deleted: the checkpoint signed at {utc_text(found.at)} is no longer in the "
                    "database; checkpoint rows were deleted or replaced",
                )
            )
    if export_file is not None:
        report.not_exported = sum((c.seq, c.signature) not in held for c in stored)
    return report


def _check(
    report: CheckpointReport,
    where: str,
    checkpoint: Checkpoint,
    keys: dict[str, _Key],
    hashes: dict[int, str],
) -> bool:
    """Adds what is wrong with one checkpoint to ``report``; True if nothing is."""
    problem = _signature_problem(checkpoint, keys) or _chain_problem(checkpoint, hashes)
    if problem is None:
        return True
    report.problems.append(Finding(where, checkpoint.seq, problem))
    return False


def summary(report: CheckpointReport, export_file: Path | None) -> list[str]:
    """Lines for ``hub audit verify`` about checkpoints that hold."""
    if report.in_database == 0 and not report.in_export:
        return []
    lines = []
    newest = report.newest
    if newest is not None:
        lines.append(
            f"{_count(report.in_database, 'signed checkpoint')} verified; the newest covers seq "
            f"{newest.seq} ({utc_text(newest.at)}, key {newest.kid})"
        )
    if export_file is not None and report.in_export is not None:
        lines.append(f"{_count(report.in_export, 'checkpoint')} in {export_file} verified")
        if report.not_exported:
            lines.append(
                f"{_count(report.not_exported, 'checkpoint')} not in {export_file} yet: "
                f"'hub audit checkpoints export {export_file}' adds them"
            )
    return lines


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"
