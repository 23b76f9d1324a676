"""After a run: is every acknowledged write there, whole, audited, and the chain intact?

Each function returns what it found wrong, as sentences (empty: nothing), so that a test
can assert on all of them at once and show every problem of a run together.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit import verify
from hub.db.coordination import (
    ChangeReport,
    RecordedCharityAid,
    Referral,
    ReferralEvent,
    ReviewSchedule,
)
from hub.db.models import AuditEntry
from tests.reliability.load import Write

WRITTEN = """query Written($id: ID!) { household(id: $id) {
  changeReports { id }
  referrals(first: 100) { edges { node { id history { toState } } } }
  charity { aid { id provenance } } } }"""


async def stored(sessions: async_sessionmaker[AsyncSession], writes: Sequence[Write]) -> list[str]:
    """Every acknowledged write is in the database under the ID the hub gave (and a charity
    aid's idempotency key holds exactly that one record)."""
    missing = []
    async with sessions() as session:
        reports = set(await session.scalars(select(ChangeReport.id)))
        referrals = set(await session.scalars(select(Referral.id)))
        aid = {
            key: ids
            for key, ids in (
                await session.execute(
                    select(
                        RecordedCharityAid.idempotency_key, func.count(RecordedCharityAid.id)
                    ).group_by(RecordedCharityAid.idempotency_key)
                )
            ).all()
        }
        aid_ids = set(await session.scalars(select(RecordedCharityAid.id)))
    for write in writes:
        if write.kind == "reportChange" and write.id not in reports:
            missing.append(f"change report {write.id} was acknowledged but is not stored")
        if write.kind == "referHousehold" and write.id not in referrals:
            missing.append(f"referral {write.id} was acknowledged but is not stored")
        if write.kind == "recordCharityAid":
            if write.id not in aid_ids:
                missing.append(f"charity aid {write.id} was acknowledged but is not stored")
            held = aid.get(write.key or "")
            if held != 1:
                missing.append(f"idempotency key {write.key} holds {held} records")
    return missing


async def through_api(url: str, headers: dict[str, str], writes: Sequence[Write]) -> list[str]:
    """Every acknowledged write shows on its household through the API."""
    by_household: dict[str, list[Write]] = defaultdict(list)
    for write in writes:
        by_household[write.household_id].append(write)
    missing: list[str] = []
    slots = asyncio.Semaphore(8)

    async def look(session: aiohttp.ClientSession, household: str) -> None:
        async with (
            slots,
            session.post(
                f"{url}/graphql",
                json={"query": WRITTEN, "variables": {"id": household}},
                headers=headers,
            ) as response,
        ):
            body = await response.json()
        node = (body.get("data") or {}).get("household")
        if response.status != 200 or node is None:
            missing.append(f"household {household}: HTTP {response.status}, {body.get('errors')}")
            return
        shown = {r["id"] for r in node["changeReports"]}
        shown |= {e["node"]["id"] for e in node["referrals"]["edges"]}
        charity = node["charity"] or {"aid": []}
        shown |= {a["id"] for a in charity["aid"] if a["provenance"] == "HUB"}
        for write in by_household[household]:
            if write.id not in shown:
                missing.append(f"{write.kind} {write.id} does not show on {household}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(look(session, h) for h in by_household))
    return missing


async def audited(sessions: async_sessionmaker[AsyncSession], writes: Sequence[Write]) -> list[str]:
    """Every acknowledged write has its audit entry (its request, its household, GRANTED)."""
    async with sessions() as session:
        entries = {
            e.request_id: e
            for e in await session.scalars(
                select(AuditEntry).where(AuditEntry.request_id.in_([w.request_id for w in writes]))
            )
        }
    missing = []
    for write in writes:
        entry = entries.get(write.request_id)
        if entry is None:
            missing.append(f"{write.kind} {write.id} (request {write.request_id}) is not audited")
        elif write.household_id not in json.loads(entry.households) or entry.outcome != "GRANTED":
            missing.append(
                f"{write.kind} {write.id}: audited as {entry.outcome} {entry.households}"
            )
    return missing


async def whole(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """No write half done: every referral has the one step that created it, and every
    change report brought its household's reviews forward to its due day."""
    broken = []
    async with sessions() as session:
        steps: dict[str, list[Any]] = defaultdict(list)
        for referral_id, to_state in await session.execute(
            select(ReferralEvent.referral_id, ReferralEvent.to_state)
        ):
            steps[referral_id].append(to_state)
        for referral_id in await session.scalars(select(Referral.id)):
            if steps.get(referral_id) != ["REQUESTED"]:
                broken.append(f"referral {referral_id} has the steps {steps.get(referral_id)}")
        schedules: dict[str, list[ReviewSchedule]] = defaultdict(list)
        for schedule in await session.scalars(select(ReviewSchedule)):
            schedules[schedule.household_id].append(schedule)
        for report in await session.scalars(select(ChangeReport)):
            for schedule in schedules[report.household_id]:
                if schedule.next_due_on > report.review_due_by:
                    broken.append(
                        f"change report {report.id} is stored, but the {schedule.category} "
                        f"review of {report.household_id} is still due {schedule.next_due_on}"
                    )
    return broken


async def chain(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The audit log's hash chain holds (what ``hub audit verify`` checks)."""
    broken = await verify(sessions)
    return [] if broken is None else [f"audit chain broken at {broken.seq}: {broken.reason}"]


async def everything(
    sessions: async_sessionmaker[AsyncSession],
    url: str,
    headers: dict[str, str],
    writes: Sequence[Write],
) -> list[str]:
    """All of the above."""
    return [
        *await stored(sessions, writes),
        *await through_api(url, headers, writes),
        *await audited(sessions, writes),
        *await whole(sessions),
        *await chain(sessions),
    ]


async def unacknowledged(
    sessions: async_sessionmaker[AsyncSession], writes: Sequence[Write]
) -> int:
    """Referrals and change reports stored whose request was not acknowledged: the write
    committed, then its audit entry could not be (the caller was told AUDIT_UNAVAILABLE).
    A retry by the caller would make it twice."""
    acknowledged = {w.id for w in writes}
    async with sessions() as session:
        stored = set(await session.scalars(select(ChangeReport.id)))
        stored |= set(await session.scalars(select(Referral.id)))
    return len(stored - acknowledged)
