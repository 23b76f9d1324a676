"""Signed checkpoints of the audit log: taken, exported, and checked by ``hub audit verify``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub import audit, signing
from hub.app import create_app
from hub.audit import checkpoints
from hub.audit.checkpoint_checks import verify_checkpoints
from hub.audit.checkpoints import Checkpoint, Checkpointer, CheckpointRefused
from hub.auth.principal import ClientKind, Purpose
from hub.cli import main
from hub.db.checkpoints import AuditCheckpoint
from hub.db.models import AuditDisclosure, AuditEntry
from hub.db.session import create_engine, session_factory
from hub.db.signing import SigningKey
from hub.keys import Keys
from hub.settings import Settings
from tests.conftest import make_settings
from tests.hubclient import credentials

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
KEYS = Keys(Settings().secret)  # the secret the command line uses in the tests


def record(n: int) -> audit.AccessRecord:
    return audit.AccessRecord(
        request_id=f"req-{n:06d}",
        client_id="c0ffee00-0000-4000-8000-000000000001",
        client_kind="AGENCY",
        token_id="tok-0001",
        purpose="CASE_MANAGEMENT",
        operation="household",
        households=(f"H310101{n:07d}",),
        sections=("civilAffairs",),
        outcome="GRANTED",
    )


async def fill(sessions: Sessions, first: int, last: int) -> None:
    await audit.append_many(sessions, [record(n) for n in range(first, last + 1)])


async def take(sessions: Sessions, **options: Any) -> Checkpoint | None:
    return await checkpoints.take(sessions, await signing.read(sessions, KEYS), **options)


async def truncate(sessions: Sessions, after: int) -> None:
    """What someone with write access does to hide the newest entries."""
    async with sessions.begin() as session:
        await session.execute(delete(AuditDisclosure).where(AuditDisclosure.seq > after))
        await session.execute(delete(AuditEntry).where(AuditEntry.seq > after))


async def rebuild(sessions: Sessions, start: int) -> None:
    """Rewrite every entry from ``start`` on, with hashes that link up again."""
    async with sessions.begin() as session:
        entries = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev = entries[start - 2].hash if start > 1 else audit.GENESIS
        for entry in entries[start - 1 :]:
            entry.outcome = "DENIED"
            entry.prev_hash = prev
            entry.hash = audit.entry_hash(entry)
            prev = entry.hash


def on_db(database_url: str, action: Callable[[Sessions], Awaitable[T]]) -> T:
    """Run ``action`` on the database from a synchronous (command line) test."""

    async def go() -> T:
        engine = create_engine(database_url)
        try:
            return await action(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def hub(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"HUB_DATABASE_URL": database_url})
    return result.exit_code, result.output


# --- taking them -----------------------------------------------------------------------


async def test_a_checkpoint_signs_the_head_and_anyone_with_the_public_key_can_check_it(
    sessions: Sessions,
):
    assert await take(sessions) is None  # an empty log: nothing to sign
    await fill(sessions, 1, 3)
    made = await take(sessions)
    assert made is not None
    assert (made.seq, made.hash) == await audit.head(sessions)
    assert await take(sessions) is None  # the same head is not signed twice
    # Verified as a partner or an auditor would: the published key, the documented bytes.
    ring = await signing.read(sessions, KEYS)
    jwk = next(k for k in ring.jwks()["keys"] if k["kid"] == made.kid)
    public = Ed25519PublicKey.from_public_bytes(signing.unb64url(jwk["x"]))
    signed = (
        checkpoints.DOMAIN
        + json.dumps(
            {
                "at": made.at.isoformat(timespec="microseconds"),
                "hash": made.hash,
                "kid": made.kid,
                "seq": 3,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    )
    public.verify(signing.unb64url(made.signature), signed)  # raises if it does not hold
    report = await verify_checkpoints(sessions, KEYS)
    assert (report.in_database, report.problems) == (1, [])


async def test_a_checkpoint_is_refused_over_a_log_that_lost_the_last_one(sessions: Sessions):
    await fill(sessions, 1, 4)
    await take(sessions)
    await truncate(sessions, 2)
    await fill(sessions, 3, 6)  # new entries where the deleted ones were
    with pytest.raises(CheckpointRefused, match="no longer has the signed hash of seq 4"):
        await take(sessions)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


async def test_workers_racing_for_one_interval_make_one_checkpoint(database_url: str, engine):
    # Separate engines: separate pools, as separate worker processes have.
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        pools = [session_factory(e) for e in engines]
        await fill(pools[0], 1, 5)
        rings = [await signing.read(pool, KEYS) for pool in pools]
        made = await asyncio.gather(
            *(
                checkpoints.take(pool, ring, every=timedelta(hours=1))
                for pool, ring in zip(pools * 2, rings * 2, strict=True)
            )
        )
        assert sum(m is not None for m in made) == 1
        await fill(pools[0], 6, 7)
        # Within the hour, more entries alone make none; with entries=2 they do, once.
        assert await checkpoints.take(pools[1], rings[1], every=timedelta(hours=1)) is None
        again = await asyncio.gather(
            *(
                checkpoints.take(pool, ring, every=timedelta(hours=1), entries=2)
                for pool, ring in zip(pools, rings, strict=True)
            )
        )
        assert [m.seq for m in again if m is not None] == [7]
        async with pools[2]() as session:
            stored = list(await session.scalars(select(AuditCheckpoint.seq)))
        assert sorted(stored) == [5, 7]
    finally:
        for e in engines:
            await e.dispose()


# --- what verify catches ---------------------------------------------------------------


def test_deleting_the_newest_entries_is_caught_by_hub_audit_verify_alone(database_url, engine):
    on_db(database_url, lambda s: fill(s, 1, 5))
    code, out = hub(database_url, "audit", "checkpoint")
    assert code == 0, out
    assert out.startswith("checkpoint seq 5 ")
    on_db(database_url, lambda s: truncate(s, 3))
    assert on_db(database_url, audit.verify) is None  # what is left still links up
    code, out = hub(database_url, "audit", "verify")
    assert code == 1
    assert "checkpoint of seq 5 (database): deleted: the log no longer holds seq 5" in out
    assert "1 signed checkpoint(s) do not hold" in out


def test_a_chain_rebuilt_with_valid_hashes_is_caught(database_url, engine):
    on_db(database_url, lambda s: fill(s, 1, 3))
    assert hub(database_url, "audit", "checkpoint")[0] == 0
    on_db(database_url, lambda s: fill(s, 4, 6))
    assert hub(database_url, "audit", "checkpoint")[0] == 0
    code, out = hub(database_url, "audit", "verify")
    assert code == 0, out
    assert out.splitlines()[0] == "audit log intact: 6 entries"
    assert out.splitlines()[1].startswith("2 signed checkpoints verified; the newest covers seq 6")
    on_db(database_url, lambda s: rebuild(s, 5))
    assert on_db(database_url, audit.verify) is None  # the chain alone cannot tell
    code, out = hub(database_url, "audit", "verify")
    assert code == 1
    assert "checkpoint of seq 6 (database): rebuilt: seq 6 no longer has the hash" in out
    assert "seq 3" not in out  # the checkpoint before the rebuilt part still holds


async def test_deleting_the_checkpoint_rows_too_is_caught_through_the_export(
    sessions: Sessions, tmp_path: Path
):
    exported = tmp_path / "checkpoints.jsonl"
    await fill(sessions, 1, 3)
    await checkpoints.export(exported, [await take(sessions)])  # type: ignore[list-item]
    await fill(sessions, 4, 6)
    await checkpoints.export(exported, [await take(sessions)])  # type: ignore[list-item]
    assert [json.loads(line)["seq"] for line in exported.read_text().splitlines()] == [3, 6]
    assert (await verify_checkpoints(sessions, KEYS, export_file=exported)).problems == []

    await truncate(sessions, 4)
    async with sessions.begin() as session:
        await session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq > 4))
    assert await audit.verify(sessions) is None
    assert (await verify_checkpoints(sessions, KEYS)).problems == []  # the database agrees
    report = await verify_checkpoints(sessions, KEYS, export_file=exported)
    assert [(p.where, p.seq) for p in report.problems] == [("export file line 2", 6)]
    assert report.problems[0].reason.startswith("deleted: the log no longer holds seq 6")

    # Rows deleted, entries kept: the export still misses them.
    await fill(sessions, 5, 6)
    async with sessions.begin() as session:
        await session.execute(delete(AuditCheckpoint))
    report = await verify_checkpoints(sessions, KEYS, export_file=exported)
    reasons = [p.reason for p in report.problems]
    assert any("no longer in the database; checkpoint rows were deleted" in r for r in reasons)


async def test_a_forged_or_altered_checkpoint_is_caught(sessions: Sessions, tmp_path: Path):
    await fill(sessions, 1, 4)
    made = await take(sessions)
    assert made is not None
    # Moved to match a rebuilt chain: the signature no longer fits.
    await rebuild(sessions, 3)
    new_hash = (await audit.head(sessions))[1]  # type: ignore[index]
    async with sessions.begin() as session:
        await session.execute(update(AuditCheckpoint).values(hash=new_hash))
    (problem,) = (await verify_checkpoints(sessions, KEYS)).problems
    assert problem.reason.startswith("forged: the signature does not verify")

    # Signed by a key put into the table by hand, which the hub's secret did not seal.
    planted = Ed25519PrivateKey.generate()
    raw = planted.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    at = datetime.now(UTC)
    kid = "hub-planted"
    signature = planted.sign(checkpoints.encode(seq=4, hash=new_hash, at=at, kid=kid))
    async with sessions.begin() as session:
        session.add(
            SigningKey(
                kid=kid,
                public_key=signing.b64url(raw),
                private_sealed=Keys(b"another secret of 32 characters at least!").seal(
                    "x", context="signing key"
                ),
                created_at=at,
                retired_at=None,
            )
        )
        await session.execute(
            update(AuditCheckpoint).values(kid=kid, at=at, signature=signing.b64url(signature))
        )
    (problem,) = (await verify_checkpoints(sessions, KEYS)).problems
    assert "which this hub did not make" in problem.reason

    # A line of the export file altered, and one that is not a checkpoint at all.
    exported = tmp_path / "checkpoints.jsonl"
    line = json.loads(made.line())
    line["signature"] = line["signature"][:-4] + "AAAA"
    exported.write_text(json.dumps(line) + "\nnot json\n")
    report = await verify_checkpoints(sessions, KEYS, export_file=exported)
    found = {p.where: p.reason for p in report.problems}
    assert found["export file line 1"].startswith("forged")
    assert found["export file line 2"] == "the line is not JSON"


async def test_checkpoints_signed_before_a_rotation_or_retirement_still_verify(
    sessions: Sessions,
):
    await fill(sessions, 1, 2)
    old = await take(sessions)
    old_ring = await signing.read(sessions, KEYS)
    await signing.rotate(sessions, KEYS)
    await fill(sessions, 3, 4)
    new = await take(sessions)
    assert old is not None
    assert new is not None
    assert old.kid != new.kid
    await signing.retire(sessions, old.kid)
    report = await verify_checkpoints(sessions, KEYS)
    assert (report.in_database, report.problems) == (2, [])
    # The retired key signing now is not taken: it signs nothing after its retirement.
    await fill(sessions, 5, 5)
    late = await checkpoints.take(sessions, old_ring)
    assert late is not None
    (problem,) = (await verify_checkpoints(sessions, KEYS)).problems
    assert problem.seq == 5
    assert f"signed by key {old.kid!r} after it was retired" in problem.reason


# --- exporting them, and the command line -----------------------------------------------


def test_checkpoints_are_taken_listed_and_exported_from_the_command_line(
    database_url, engine, tmp_path: Path
):
    exported = tmp_path / "cp.jsonl"
    code, out = hub(database_url, "audit", "checkpoint")
    assert (code, out.strip()) == (0, "nothing to sign: the audit log is empty")
    on_db(database_url, lambda s: fill(s, 1, 2))
    code, out = hub(database_url, "audit", "checkpoint", "--export", str(exported))
    assert code == 0, out
    assert out.splitlines()[1] == f"appended to {exported}"
    code, out = hub(database_url, "audit", "checkpoint")
    assert out.strip() == "nothing new to sign: the newest checkpoint covers seq 2"
    on_db(database_url, lambda s: fill(s, 3, 3))
    assert hub(database_url, "audit", "checkpoint")[0] == 0  # not exported
    code, out = hub(database_url, "audit", "checkpoints", "list")
    assert [line.split()[1] for line in out.splitlines()] == ["3", "2"]
    code, out = hub(database_url, "audit", "verify", "--export", str(exported))
    assert code == 0, out
    assert f"1 checkpoint not in {exported} yet" in out
    code, out = hub(database_url, "audit", "checkpoints", "export", str(exported))
    assert out.strip() == f"appended 1 checkpoint(s) to {exported}"
    code, out = hub(database_url, "audit", "checkpoints", "export", str(exported))
    assert out.strip() == f"appended 0 checkpoint(s) to {exported}"
    assert [json.loads(x)["seq"] for x in exported.read_text().splitlines()] == [2, 3]
    code, out = hub(database_url, "audit", "verify", "--export", str(exported))
    assert code == 0, out
    assert f"2 checkpoints in {exported} verified" in out
    exported.unlink()
    code, out = hub(database_url, "audit", "verify", "--export", str(exported))
    assert code == 1
    assert f"export file: {exported} does not exist, though 2 checkpoints were taken" in out


async def test_a_line_cut_short_in_the_export_stays_apart_from_the_next(
    sessions: Sessions, tmp_path: Path
):
    exported = tmp_path / "cp.jsonl"
    await fill(sessions, 1, 1)
    first = await take(sessions)
    assert first is not None
    exported.write_text(first.line()[:40])  # a crash in the middle of a write
    await checkpoints.export(exported, [first])
    report = await verify_checkpoints(sessions, KEYS, export_file=exported)
    assert report.in_export == 1
    assert [str(p) for p in report.problems] == ["export file line 1: the line is not JSON"]


async def test_the_hub_takes_and_exports_checkpoints_at_its_interval(
    database_url: str, engine, transport: InProcessTransport, tmp_path: Path
):
    exported = tmp_path / "checkpoints.jsonl"
    settings = make_settings(database_url).model_copy(
        update={"audit_checkpoint_seconds": 0.1, "audit_checkpoint_export": exported}
    )
    app = create_app(settings, transport=transport)
    async with app.router.lifespan_context(app):
        sessions: Sessions = app.state.resources.sessions
        headers = await credentials(
            sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            for n in range(2):
                response = await client.post(
                    "/graphql",
                    json={"query": f'{{ household(id: "H310101000000{n}") {{ id }} }}'},
                    headers=headers,
                )
                assert response.json() == {"data": {"household": None}}
                signed = await _checkpoint_reaching(sessions, n + 1)
                assert signed.seq == n + 1
                await _exported_reaching(exported, n + 1)
        lines = [json.loads(x) for x in exported.read_text().splitlines()]
        assert [line["seq"] for line in lines] == [1, 2]
        report = await verify_checkpoints(sessions, Keys(settings.secret), export_file=exported)
        assert (report.in_database, report.in_export, report.problems) == (2, 2, [])


async def _checkpoint_reaching(sessions: Sessions, seq: int) -> Checkpoint:
    for _ in range(100):
        newest = await checkpoints.listing(sessions, limit=1)
        if newest and newest[0].seq >= seq:
            return newest[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no checkpoint of seq {seq} within 5 s")


def _lines_in(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


async def _exported_reaching(path: Path, lines: int) -> None:
    for _ in range(100):
        if await asyncio.to_thread(_lines_in, path) >= lines:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} has not {lines} lines within 5 s")


async def test_a_checkpoint_whose_export_failed_is_kept_and_exported_later(
    sessions: Sessions, tmp_path: Path, caplog
):
    await fill(sessions, 1, 1)
    directory = tmp_path / "mounted-later"
    exported = directory / "cp.jsonl"
    checkpointer = Checkpointer(
        sessions, signing.KeyRing(sessions, KEYS), every=0.05, export_to=exported
    )
    checkpointer.start()
    try:
        stored = await _checkpoint_reaching(sessions, 1)
        for _ in range(100):
            if "audit checkpoint failed" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "audit checkpoint failed" in caplog.text
        assert not exported.exists()
        # The place is writable again: the next tick appends what it missed, with nothing
        # new to sign.
        directory.mkdir()
        await _exported_reaching(exported, 1)
    finally:
        await checkpointer.aclose()
    assert Checkpoint.parse(exported.read_text()) == stored
    assert await checkpoints.export_missing(sessions, exported) == 0
    by_hand = tmp_path / "by-hand.jsonl"
    assert await checkpoints.export_missing(sessions, by_hand) == 1
    assert by_hand.read_text() == exported.read_text()


async def test_a_checkpointer_by_entries_alone_signs_once_enough_wait(sessions: Sessions):
    with pytest.raises(ValueError, match="an interval or a number of entries"):
        Checkpointer(sessions, signing.KeyRing(sessions, KEYS), every=0)
    checkpointer = Checkpointer(sessions, signing.KeyRing(sessions, KEYS), every=0, entries=3)
    await fill(sessions, 1, 2)
    first = await checkpointer.tick()
    assert first is not None
    assert first.seq == 2  # the first checkpoint of a log is always due
    await fill(sessions, 3, 4)
    assert await checkpointer.tick() is None  # two wait, three are asked for
    await fill(sessions, 5, 5)
    later = await checkpointer.tick()
    assert later is not None
    assert later.seq == 5
