"""Telling every worker at once that what it cached may no longer hold.

Workers keep validated tokens for a short while (``hub.auth.credentials``) so that a
request costs no database round trip to authenticate, and the index entries they read
(``hub.index.cache``) so that a household's view costs none to find it; revoking a token,
disabling a client, a sync or aid recorded through the hub must still take effect on the
next request, in every worker. So each change is announced on its channel
(``REVOCATIONS``, ``INDEX``), and each worker watches an *epoch* per channel that moves
with every announcement: a cache filled under another epoch is dropped.

- PostgreSQL: ``NOTIFY <channel>`` after the change commits; each worker LISTENs on a
  connection of its own. While that connection is down, the epoch is unknown and
  nothing is served from the cache.
- SQLite (one machine): a file per channel beside the database, touched after the
  change; each request reads its modification time (one ``stat``, no query).

A writer that dies between its commit and its announcement leaves caches stale until
their time to live runs out (30 seconds by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Protocol

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

REVOCATIONS = "hub_revocations"  # tokens revoked, clients disabled
INDEX = "hub_index"  # household index entries changed (sync, recorded charity aid)
CHANNELS = (REVOCATIONS, INDEX)


class Revocations(Protocol):
    """Where a worker reads the revocation epoch."""

    def epoch(self) -> int | None:
        """The current epoch; None when it cannot be known (then trust no cache)."""
        ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


def _sqlite_file(database_url: str, channel: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{url.database}-{channel.removeprefix('hub_')}")


class FileRevocations:
    """The epoch is the modification time of a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def epoch(self) -> int | None:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return None

    async def start(self) -> None:
        if not self.path.exists():
            self.path.touch()

    async def aclose(self) -> None:
        """Nothing held."""


class NoRevocations:
    """No way to hear of revocations (an in-memory database): nothing is cached."""

    def epoch(self) -> int | None:
        return None

    async def start(self) -> None:
        """Nothing to start."""

    async def aclose(self) -> None:
        """Nothing held."""


class ListenRevocations:
    """The epoch counts the notifications received on a PostgreSQL LISTEN connection."""

    def __init__(
        self, database_url: str, *, channel: str = REVOCATIONS, retry: float = 1.0
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        self._channel = channel
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._retry = retry
        self._epoch = 0
        self._connected = False
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    def epoch(self) -> int | None:
        return self._epoch if self._connected else None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn)
                self._lost.clear()
                connection.add_termination_listener(lambda _: self._lost.set())
                await connection.add_listener(self._channel, self._notified)
                # Whatever was announced while no one listened: start a new epoch.
                self._epoch += 1
                self._connected = True
                await self._lost.wait()
                log.warning("revocation listener lost its connection; caching paused")
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("revocation listener cannot connect (%s); caching paused", exc)
            finally:
                self._connected = False
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=1)
            await asyncio.sleep(self._retry)

    def _notified(self, *_args: object) -> None:
        self._epoch += 1

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def watch(database_url: str, channel: str = REVOCATIONS) -> Revocations:
    """How workers of a hub on ``database_url`` learn of the changes on ``channel``."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return ListenRevocations(database_url, channel=channel)
    path = _sqlite_file(database_url, channel)
    return FileRevocations(path) if path is not None else NoRevocations()


async def announce(sessions: async_sessionmaker[AsyncSession], channel: str = REVOCATIONS) -> None:
    """Tell every worker that what it cached from ``channel``'s tables may no longer hold
    (after the change commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    async with sessions() as session:
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            await session.execute(text(f"NOTIFY {channel}"))
            await session.commit()
            return
        path = _sqlite_file(str(bind.engine.url), channel)
    if path is not None:
        # File times follow a coarse clock: two changes within a few milliseconds could
        # share one. The epoch only ever moves forward, by at least a nanosecond.
        if not path.exists():
            path.touch()
        moved = max(time.time_ns(), os.stat(path).st_mtime_ns + 1)
        os.utime(path, ns=(moved, moved))
