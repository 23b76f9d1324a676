"""Discovery as queued jobs, shared by several workers, on the Redis the hub already has.

``hub discover --queue`` enqueues one job per district (a partition of the work);
``hub worker`` processes them, as many processes or machines as wanted. The queue is
saq's (an asyncio job library over Redis, or PostgreSQL): jobs are kept in Redis until
done, retried when a worker dies mid-job, and a district already queued is not queued
twice. Without Redis (the embedded default), ``hub discover`` runs in-process instead.
"""

from __future__ import annotations

import logging
from typing import Any

from saq import Queue, Worker
from saq.types import Context

from adapters.vocabulary import District
from hub.jobs.discovery import discover
from hub.resources import Resources
from hub.settings import Settings

log = logging.getLogger(__name__)

JOB_TIMEOUT = 3600  # seconds one district may take


def queue(settings: Settings) -> Queue:
    """The discovery queue on ``HUB_REDIS_URL``."""
    if not settings.redis_url:
        raise ValueError("the job queue needs HUB_REDIS_URL")
    return Queue.from_url(settings.redis_url, name=f"{settings.redis_prefix}discovery")


async def enqueue_discovery(
    settings: Settings, districts: list[District] | None = None
) -> list[str]:
    """Queue one discovery job per district (all by default); the districts queued now
    (one already waiting is not queued again)."""
    jobs = queue(settings)
    await jobs.connect()
    queued = []
    try:
        for district in districts or list(District):
            job = await jobs.enqueue(
                "discover_district",
                key=f"discover:{district.code}",
                timeout=JOB_TIMEOUT,
                retries=3,
                district=district.code,
            )
            if job is not None:
                queued.append(district.name)
    finally:
        await jobs.disconnect()
    return queued


async def discover_district(ctx: Context, *, district: str) -> dict[str, Any]:
    """One job: judge one district's households and keep their alerts."""
    resources: Resources = ctx["resources"]  # type: ignore[typeddict-item]
    report = await discover(resources, district=District(district))
    return {
        "district": district,
        "households": report.households,
        "opened": report.tally.opened,
        "resolved": report.tally.resolved,
        "unavailable": report.unavailable,
    }


def worker(
    settings: Settings, *, resources: Resources | None = None, burst: bool = False
) -> Worker[Context]:
    """A worker for the discovery queue: it opens the hub's resources when it starts
    (unless given), and with ``burst`` stops once the queue is empty."""

    async def startup(ctx: Context) -> None:
        opened = resources or Resources.open(settings)
        if resources is None:
            await opened.start()
        ctx["resources"] = opened  # type: ignore[typeddict-unknown-key]

    async def shutdown(ctx: Context) -> None:
        if resources is None:
            await ctx["resources"].aclose()  # type: ignore[typeddict-item]

    return Worker(
        queue(settings),
        functions=[("discover_district", discover_district)],
        concurrency=2,
        startup=startup,
        shutdown=shutdown,
        burst=burst,
        dequeue_timeout=1.0 if burst else 0.0,
    )
