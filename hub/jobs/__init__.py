"""Background work of the hub, runnable from the CLI: sync (and later discovery)."""

from __future__ import annotations

from adapters.vocabulary import District
from hub.index.sync import SyncReport, sync_households
from hub.jobs.discovery import DiscoveryReport, discover
from hub.resources import Resources
from hub.settings import Settings


async def run_sync(settings: Settings) -> SyncReport:
    resources = Resources.open(settings)
    try:
        return await sync_households(
            sessions=resources.sessions,
            adapter=resources.adapters.civil_affairs,
            page_size=settings.sync_page_size,
            rules=resources.rules,
        )
    finally:
        await resources.aclose()


async def run_discovery(
    settings: Settings,
    *,
    district: District | None = None,
    batch_size: int = 500,
    concurrency: int = 4,
) -> DiscoveryReport:
    resources = Resources.open(settings)
    try:
        return await discover(
            resources, district=district, batch_size=batch_size, concurrency=concurrency
        )
    finally:
        await resources.aclose()
