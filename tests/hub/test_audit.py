import asyncio
import itertools
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.audit import (
    GENESIS,
    HASHED_COLUMNS,
    AccessRecord,
    ChainBreak,
    append,
    break_glass_entries,
    chain,
    disclosures,
    entry_hash,
    head,
    verify,
)
from hub.db.models import AuditDisclosure, AuditEntry
from hub.db.session import create_engine, create_thread_engine, session_factory

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def ticking(start: datetime = T0) -> Callable[[], datetime]:
    """A clock that moves on a minute each time it is read."""
    minutes = itertools.count()
    return lambda: start + timedelta(minutes=next(minutes))


def hid(n: int) -> str:
    return f"H310101{n:07d}"


def record(n: int = 1, **overrides: Any) -> AccessRecord:
    fields: dict[str, Any] = {
        "request_id": f"req-{n:06d}",
        "client_id": "c0ffee00-0000-4000-8000-000000000001",
        "client_kind": "AGENCY",
        "token_id": "tok-0001",
        "purpose": "ELIGIBILITY_REVIEW",
        "operation": "household",
        "households": (hid(n),),
        "sections": ("civilAffairs", "medical"),
        "outcome": "GRANTED",
        **overrides,
    }
    return AccessRecord(**fields)


async def fill(sessions: Sessions, n: int) -> list[AuditEntry]:
    clock = ticking()
    return [await append(sessions, record(i), clock=clock) for i in range(1, n + 1)]


async def entries(sessions: Sessions) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def disclosed(sessions: Sessions) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    async with sessions() as session:
        for seq, household in await session.execute(
            select(AuditDisclosure.seq, AuditDisclosure.household_id)
        ):
            found.setdefault(seq, set()).add(household)
    return found


def content(entry: AuditEntry) -> dict[str, Any]:
    """Every column of an entry but its seq: what a forger moves around."""
    return {name: getattr(entry, name) for name in (*HASHED_COLUMNS, "hash") if name != "seq"}


async def renumber(session: AsyncSession, start: int, by: int) -> None:
    """Shift the entries from seq ``start`` on by ``by``, disclosures included, as a forger
    with write access would have to (the foreign key and the primary key are in the way)."""
    moved = (
        await session.execute(
            select(AuditDisclosure.seq, AuditDisclosure.household_id).where(
                AuditDisclosure.seq >= start
            )
        )
    ).all()
    await session.execute(delete(AuditDisclosure).where(AuditDisclosure.seq >= start))
    # Through negative numbers, since the primary key is checked row by row.
    await session.execute(
        update(AuditEntry).where(AuditEntry.seq >= start).values(seq=-AuditEntry.seq)
    )
    await session.execute(
        update(AuditEntry).where(AuditEntry.seq < 0).values(seq=by - AuditEntry.seq)
    )
    if moved:
        await session.execute(
            insert(AuditDisclosure), [{"seq": s + by, "household_id": h} for s, h in moved]
        )


# The chain


async def test_entries_are_numbered_from_1_and_each_links_to_the_one_before(sessions):
    written = await fill(sessions, 5)
    stored = await entries(sessions)
    assert [e.seq for e in written] == [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert all(e.hash == entry_hash(e) for e in stored)
    assert [e.hash for e in written] == [e.hash for e in stored]
    assert stored[2].at == T0 + timedelta(minutes=2)
    assert json.loads(stored[2].households) == [hid(3)]
    assert json.loads(stored[2].sections) == ["civilAffairs", "medical"]
    assert await disclosed(sessions) == {i: {hid(i)} for i in range(1, 6)}
    assert await head(sessions) == (5, stored[-1].hash)


async def test_a_household_named_twice_is_recorded_and_disclosed_once(sessions):
    entry = await append(sessions, record(households=(hid(1), hid(2), hid(1))))
    assert json.loads(entry.households) == [hid(1), hid(2)]
    assert await disclosed(sessions) == {1: {hid(1), hid(2)}}
    assert await verify(sessions) is None


def test_the_hash_covers_every_column_but_itself():
    # No database: this is about the encoding, the same on both.
    columns = {c.name for c in AuditEntry.__table__.columns}
    assert set(HASHED_COLUMNS) == columns - {"hash"}
    entry = AuditEntry(
        seq=7,
        at=T0,
        request_id="req",
        client_id=None,
        client_kind=None,
        token_id=None,
        purpose=None,
        operation="household",
        households=json.dumps([hid(1)]),
        sections=json.dumps(["medical"]),
        outcome="GRANTED",
        break_glass=False,
        justification=None,
        details=None,
        prev_hash=GENESIS,
    )
    original = entry_hash(entry)
    changed = {
        "seq": 8,
        "at": T0 + timedelta(microseconds=1),
        "request_id": "req2",
        "client_id": "c",
        "client_kind": "CHARITY",
        "token_id": "t",
        "purpose": "AUDIT",
        "operation": "households",
        "households": json.dumps([hid(2)]),
        "sections": json.dumps(["housing"]),
        "outcome": "DENIED",
        "break_glass": True,
        "justification": "flood",
        "details": '{"refused":"FORBIDDEN"}',
        "prev_hash": "1" * 64,
    }
    assert set(changed) == set(HASHED_COLUMNS)
    for name, value in changed.items():
        before = getattr(entry, name)
        setattr(entry, name, value)
        assert entry_hash(entry) != original, name
        setattr(entry, name, before)
    assert entry_hash(entry) == original
    # The same moment in another zone is the same entry.
    entry.at = T0.astimezone(datetime.now().astimezone().tzinfo)
    assert entry_hash(entry) == original


# Serialised appenders


async def test_concurrent_appenders_on_separate_engines_take_turns(database_url, sessions, caplog):
    engines = [create_engine(database_url) for _ in range(4)]

    async def worker(w: int, factory: Sessions) -> list[int]:
        return [(await append(factory, record(100 * w + i))).seq for i in range(25)]

    try:
        with caplog.at_level(logging.WARNING, logger="hub.audit"):
            seqs = await asyncio.gather(
                *(worker(w, session_factory(e)) for w, e in enumerate(engines))
            )
    finally:
        for e in engines:
            await e.dispose()
    assert sorted(s for mine in seqs for s in mine) == list(range(1, 101))
    assert all(mine == sorted(mine) for mine in seqs)
    # No appender fell back to a retry: the lock alone kept them apart.
    assert not [r for r in caplog.records if r.name.startswith("hub.audit")]
    assert await verify(sessions) is None
    assert sum(len(h) for h in (await disclosed(sessions)).values()) == 100


async def test_an_appender_waits_while_another_transaction_holds_the_lock(database_url, sessions):
    other = create_engine(database_url)
    try:
        async with sessions() as holder, holder.begin():
            await chain._lock(holder)
            waiting = asyncio.create_task(append(session_factory(other), record(1)))
            await asyncio.sleep(0.5)
            assert not waiting.done()
        entry = await asyncio.wait_for(waiting, timeout=5)
    finally:
        await other.dispose()
    assert entry.seq == 1


# Verification


async def test_an_intact_log_verifies_across_pages(sessions):
    assert await verify(sessions) is None
    assert await head(sessions) is None
    await fill(sessions, 7)
    assert await verify(sessions) is None
    assert await verify(sessions, page_size=2) is None
    assert await verify(sessions, anchor=await head(sessions)) is None


@pytest.mark.parametrize("page_size", [2, 1000])
async def test_an_altered_outcome_is_named(sessions, page_size):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.seq == 5).values(outcome="DENIED")
        )
    broken = await verify(sessions, page_size=page_size)
    assert broken is not None
    assert broken.seq == 5
    assert broken.reason.startswith("altered")


@pytest.mark.parametrize("index_too", [False, True], ids=["entry", "entry-and-index"])
async def test_altered_households_are_named(sessions, index_too):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 3)
            .values(households=json.dumps([hid(3), hid(99)]))
        )
        if index_too:  # covering the tracks does not help
            session.add(AuditDisclosure(seq=3, household_id=hid(99)))
    assert await verify(sessions) == ChainBreak(
        3, "altered: the content of seq 3 does not match its hash"
    )


@pytest.mark.parametrize("change", ["removed", "added"])
async def test_a_disclosure_index_that_disagrees_with_its_entry_is_named(sessions, change):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        if change == "removed":  # hiding that household 4 was seen
            await session.execute(delete(AuditDisclosure).where(AuditDisclosure.seq == 4))
        else:
            session.add(AuditDisclosure(seq=4, household_id=hid(42)))
    broken = await verify(sessions)
    assert broken is not None
    assert broken.seq == 4
    assert broken.reason.startswith("disclosure index")


async def test_an_entry_deleted_from_the_middle_leaves_a_gap(sessions):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    assert await verify(sessions) == ChainBreak(
        4, "gap: seq 4 follows seq 2; entries were deleted or inserted"
    )


async def test_an_entry_deleted_and_the_gap_closed_is_named(sessions):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
        await renumber(session, 4, -1)
    broken = await verify(sessions)
    assert broken is not None
    assert broken.seq == 3
    assert broken.reason.startswith("deleted")


async def test_the_first_entry_deleted_is_named(sessions):
    await fill(sessions, 3)
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq == 1))
    assert await verify(sessions) == ChainBreak(
        2, "gap: seq 2 is the first entry; entries were deleted or inserted"
    )


async def test_an_entry_forged_into_the_middle_is_named_even_with_a_correct_hash(sessions):
    stored = await fill(sessions, 6)
    async with sessions.begin() as session:
        await renumber(session, 4, +1)
        # The worst case: the forger knows the encoding and links to the entry before.
        forged = AuditEntry(**{**content(stored[2]), "seq": 4, "prev_hash": stored[2].hash})
        forged.request_id = "forged"
        forged.at = stored[2].at + timedelta(seconds=30)
        forged.hash = entry_hash(forged)
        session.add(forged)
        await session.flush()
        session.add(AuditDisclosure(seq=4, household_id=hid(3)))
    broken = await verify(sessions)
    assert broken is not None
    assert broken.seq == 4
    assert broken.reason.startswith("inserted")


@pytest.mark.parametrize(("seq", "first_bad"), [(7, 7), (0, 0)], ids=["at-the-end", "before-1"])
async def test_an_entry_forged_with_a_made_up_hash_is_named(sessions, seq, first_bad):
    stored = await fill(sessions, 6)
    async with sessions.begin() as session:
        session.add(
            AuditEntry(
                **{
                    **content(stored[5]),
                    "seq": seq,
                    "prev_hash": stored[5].hash if seq == 7 else GENESIS,
                    "hash": "f" * 64,
                }
            )
        )
    broken = await verify(sessions)
    assert broken is not None
    assert broken.seq == first_bad
    assert broken.reason.startswith("altered" if seq == 7 else "gap")


@pytest.mark.parametrize(("first", "second"), [(2, 5), (3, 4)], ids=["apart", "adjacent"])
async def test_two_swapped_entries_are_named_as_reordered(sessions, first, second):
    await fill(sessions, 6)
    async with sessions.begin() as session:
        one, other = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq.in_([first, second])).order_by("seq")
            )
        ).all()
        one_content, other_content = content(one), content(other)
        await session.execute(
            delete(AuditDisclosure).where(AuditDisclosure.seq.in_([first, second]))
        )
        for seq, moved in ((first, other_content), (second, one_content)):
            await session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**moved))
            for household in json.loads(moved["households"]):
                session.add(AuditDisclosure(seq=seq, household_id=household))
    broken = await verify(sessions)
    assert broken is not None
    assert broken.seq == first
    assert broken.reason.startswith("reordered")


async def test_deleting_the_newest_entries_shows_only_against_an_anchored_head(sessions):
    await fill(sessions, 5)
    anchored = await head(sessions)
    assert anchored is not None
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 4))
    assert await verify(sessions) is None  # what is left still links up
    assert await verify(sessions, anchor=anchored) == ChainBreak(
        5, "deleted: the anchored seq 5 is no longer in the log"
    )


async def test_a_rebuilt_chain_shows_against_an_anchored_head(sessions):
    await fill(sessions, 4)
    anchored = await head(sessions)
    assert anchored is not None
    async with sessions.begin() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
        # Someone who knows the encoding alters seq 2 and rehashes everything after it.
        rows[1].outcome = "DENIED"
        for before, row in itertools.pairwise(rows):
            row.prev_hash = before.hash
            row.hash = entry_hash(row)
    assert await verify(sessions) is None
    broken = await verify(sessions, anchor=anchored)
    assert broken is not None
    assert broken.seq == 4
    assert broken.reason.startswith("altered")


# Reading the log


async def test_disclosures_of_a_household_newest_first_within_a_window(sessions):
    a, b = hid(1), hid(2)
    clock = ticking()
    for n, households in enumerate([(a,), (b,), (a, b), (a,), (b,)], start=1):
        await append(sessions, record(n, households=households), clock=clock)
    seen = await disclosures(sessions, household_id=a, since=None, until=None)
    assert [e.seq for e in seen] == [4, 3, 1]
    assert [e.seq for e in await disclosures(sessions, household_id=b)] == [5, 3, 2]
    window = await disclosures(
        sessions,
        household_id=a,
        since=T0 + timedelta(minutes=1),  # inclusive: seq 2 on
        until=T0 + timedelta(minutes=3),  # exclusive: up to seq 3
    )
    assert [e.seq for e in window] == [3]
    assert [e.seq for e in await disclosures(sessions, household_id=a, limit=2)] == [4, 3]
    assert await disclosures(sessions, household_id=hid(9)) == []
    assert window[0].at == T0 + timedelta(minutes=2)
    assert window[0].sections == json.dumps(["civilAffairs", "medical"])


async def test_break_glass_entries_lists_only_flagged_ones(sessions):
    clock = ticking()
    for n in range(1, 6):
        flagged = n in (2, 4)
        await append(
            sessions,
            record(
                n,
                break_glass=flagged,
                justification=f"紧急救助 case {n}" if flagged else None,
            ),
            clock=clock,
        )
    flagged_entries = await break_glass_entries(sessions)
    assert [e.seq for e in flagged_entries] == [4, 2]
    assert all(e.break_glass for e in flagged_entries)
    assert flagged_entries[0].justification == "紧急救助 case 4"
    recent = await break_glass_entries(sessions, since=T0 + timedelta(minutes=2), until=None)
    assert [e.seq for e in recent] == [4]
    assert await verify(sessions) is None


# What the log refuses


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"households": (hid(1), "310101199001011234")}, r"households\[1\] is not a household ID"),
        ({"households": ("H310101000000１",)}, "not a household ID"),  # a full-width digit
        ({"households": ("H3101010000001\n",)}, "not a household ID"),
        ({"households": ("H31010100000012",)}, "not a household ID"),
        ({"sections": ("civilAffairs", "张三")}, r"sections\[1\] is not a section name"),
        ({"sections": ("310101199001011234",)}, "not a section name"),
        ({"outcome": "OK"}, "outcome must be one of"),
        ({"break_glass": True}, "needs a justification"),
        ({"break_glass": True, "justification": "  "}, "needs a justification"),
        ({"request_id": "r" * 33}, "request_id is longer than 32"),
    ],
    ids=[
        "id-number",
        "full-width-digit",
        "trailing-newline",
        "too-long",
        "name-as-section",
        "id-number-as-section",
        "outcome",
        "break-glass-without-justification",
        "blank-justification",
        "too-long-request-id",
    ],
)
async def test_append_refuses_what_does_not_belong_in_the_log(sessions, overrides, message):
    with pytest.raises(ValueError, match=message) as refused:
        await append(sessions, record(1, **overrides))
    assert "1990" not in str(refused.value)  # the refused value is not echoed to the logs
    assert await head(sessions) is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditDisclosure)) == 0


async def test_append_refuses_a_clock_without_a_timezone(sessions):
    with pytest.raises(ValueError, match="timezone-aware"):
        await append(sessions, record(1), clock=lambda: datetime(2026, 3, 1, 9, 0))
    assert await head(sessions) is None


async def test_the_writer_commits_concurrent_requests_together_and_each_waits_for_its_own(
    sessions, monkeypatch
):
    batches: list[int] = []
    real = audit.append_many

    async def counted(sessions_, records, **kwargs):
        batches.append(len(records))
        return await real(sessions_, records, **kwargs)

    monkeypatch.setattr(chain, "append_many", counted)
    writer = audit.AuditWriter(sessions)
    entries = await asyncio.gather(*(writer.append(record(n)) for n in range(1, 41)))
    assert sorted(e.seq for e in entries) == list(range(1, 41))
    assert [e.request_id for e in sorted(entries, key=lambda e: e.seq)] == [
        record(n).request_id for n in range(1, 41)
    ]
    assert sum(batches) == 40
    assert len(batches) < 40  # group commit: fewer transactions than requests
    assert await audit.verify(sessions) is None


async def test_a_bad_record_fails_only_its_own_request(sessions):
    writer = audit.AuditWriter(sessions)
    good, bad = await asyncio.gather(
        writer.append(record(1)),
        writer.append(record(2, households=("310101199001010011",))),
        return_exceptions=True,
    )
    assert isinstance(good, AuditEntry)
    assert isinstance(bad, ValueError)
    assert await audit.head(sessions) == (1, good.hash)


async def test_a_writer_in_a_thread_and_appenders_on_the_async_driver_take_turns(
    database_url, sessions
):
    # SQLite: the hub's writer commits each batch in one trip to a thread, on a blocking
    # engine of its own; jobs and commands append through the async driver meanwhile.
    thread = create_thread_engine(database_url)
    if database_url.startswith("postgresql"):
        assert thread is None  # asyncpg needs no thread
        return
    assert thread is not None
    try:
        writer = audit.AuditWriter(sessions, thread=thread)
        mixed = await asyncio.gather(
            *(writer.append(record(n)) for n in range(1, 31)),
            *(append(sessions, record(n)) for n in range(31, 41)),
        )
    finally:
        thread.dispose()
    assert sorted(e.seq for e in mixed) == list(range(1, 41))
    assert await audit.verify(sessions) is None
    assert sum(len(h) for h in (await disclosed(sessions)).values()) == 40
