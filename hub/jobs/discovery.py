"""``hub discover``: judge every indexed household (or one district's) and keep the alerts.

Households are read a batch at a time through the household service (one call to each
department per batch), judged by ``hub.coordination.discovery``, and their alerts
brought in line in one transaction per batch; several batches are in flight at once.
The reads are the hub's own: each batch appends one audit entry (no client, the
purpose PROACTIVE_OUTREACH, operation ``job:discover``) naming its households and the
departments read.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.vocabulary import District, Source
from hub.audit.chain import AccessRecord
from hub.auth.policy import view
from hub.auth.principal import ClientKind, Purpose
from hub.coordination import alerts, reviews
from hub.coordination.alerts import Tally
from hub.coordination.discovery import Seen, judge
from hub.households.reach import EVERYTHING
from hub.households.service import Households, gather_parts
from hub.index.search import HouseholdFilter, IndexEntry
from hub.observability import metrics
from hub.resources import Resources

log = logging.getLogger(__name__)

# What the job may read: everything, as a caseworker reviewing eligibility would.
JOB_VIEW = view(ClientKind.AGENCY, Purpose.ELIGIBILITY_REVIEW)
SECTIONS = ("charity", "civilAffairs", "disaster", "education", "employment", "household",
            "housing", "medical", "members")  # fmt: skip


@dataclass
class DiscoveryReport:
    households: int = 0
    batches: int = 0
    seconds: float = 0.0
    tally: Tally = field(default_factory=Tally)
    unavailable: dict[str, int] = field(default_factory=dict)  # department → households

    @property
    def per_second(self) -> float:
        return self.households / self.seconds if self.seconds else 0.0


async def discover(
    resources: Resources,
    *,
    district: District | None = None,
    batch_size: int = 500,
    concurrency: int = 4,
) -> DiscoveryReport:
    """Judge the households of the index (of one district) and keep their alerts."""
    started = time.perf_counter()
    report = DiscoveryReport()
    now = datetime.now(UTC)
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    reader = _households(resources, now)
    after: str | None = None
    where = HouseholdFilter(district=district)
    while True:
        page = await reader.page(where, first=batch_size, after=after)
        if not page.entries:
            break
        await slots.acquire()
        task = asyncio.create_task(_judge_batch(resources, list(page.entries), now, report))
        running.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            running.discard(finished)
            slots.release()

        task.add_done_callback(done)
        after = page.entries[-1].household_id
        if not page.has_next_page:
            break
    await asyncio.gather(*running)
    report.seconds = time.perf_counter() - started
    log.info(
        "discovery: %d households in %.1f s (%.0f/s); opened %d, updated %d, resolved %d",
        report.households,
        report.seconds,
        report.per_second,
        report.tally.opened,
        report.tally.updated,
        report.tally.resolved,
    )
    return report


def _households(resources: Resources, now: datetime) -> Households:
    return Households(
        sessions=resources.sessions,
        adapters=resources.adapters,
        rules=resources.rules,
        reach=EVERYTHING,
        view=JOB_VIEW,
        now=now,
    )


async def _judge_batch(
    resources: Resources, entries: list[IndexEntry], now: datetime, report: DiscoveryReport
) -> None:
    ids = [e.household_id for e in entries]
    reader = _households(resources, now)
    for entry in entries:
        reader.remember(entry)
    parts = await gather_parts(reader, ids)
    schedules = await reviews.schedules(resources.sessions, ids)
    judged = []
    for entry in entries:
        household_id = entry.household_id
        seen = Seen(
            entry=entry,
            parts={source: parts[source].get(household_id) for source in Source},
            schedule=schedules.get(household_id, []),
        )
        for source in Source:
            if seen.part(source) is None:
                report.unavailable[source.value] = report.unavailable.get(source.value, 0) + 1
        holding, rules = judge(seen, resources.rules, reader.today)
        judged.append((household_id, holding, rules))
    async with resources.sessions.begin() as session:
        tally = await alerts.apply(session, judged, now=now, rules_version=resources.rules.version)
    # Counted once committed: a batch rolled back opened nothing.
    metrics.HOUSEHOLDS_JUDGED.inc(len(judged))
    metrics.ALERTS_OPENED.inc(tally.opened)
    metrics.ALERTS_RESOLVED.inc(tally.resolved)
    await resources.audit.append(
        AccessRecord(
            request_id=uuid.uuid4().hex,
            client_id=None,
            client_kind=None,
            token_id=None,
            purpose=Purpose.PROACTIVE_OUTREACH.value,
            operation="job:discover",
            households=tuple(ids),
            sections=SECTIONS,
            outcome="GRANTED",
        )
    )
    report.households += len(ids)
    report.batches += 1
    for name in ("opened", "updated", "resolved", "kept"):
        setattr(report.tally, name, getattr(report.tally, name) + getattr(tally, name))
