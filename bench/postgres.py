"""A throwaway PostgreSQL database for ``python -m bench.scale``; not run on its own.

``scratch_database`` creates ``hub_bench_<random>`` on the server of a SQLAlchemy URL
and drops it when the block ends, however it ends (the bench turns SIGTERM into an exit,
and Ctrl-C is an exception, so both pass through here). Only the server's catalog and
its processes are read (version, database size, CPU time); never the hub's tables.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.processes import cpu_seconds

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _admin(url: URL, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def scratch_database(server_url: str) -> Iterator[URL]:
    """A new empty database on the server of ``server_url``; its URL."""
    server = make_url(server_url)
    name = f"hub_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name)
    finally:
        # FORCE ends the sessions of any hub process still shutting down.
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def vacuum_analyze(url: URL) -> None:
    """``VACUUM (ANALYZE)`` the database: what autovacuum does a while after a bulk load.

    Right after the first sync the planner has no statistics for the index tables and
    plans the filtered listing as if each step found one row (a nested loop over every
    active enrollment of a category, 0.3-0.9 s at 20,000 households); the bench measures
    the steady state a running hub sees, and says that it did this.
    """
    asyncio.run(_admin(url, "VACUUM (ANALYZE)"))


async def _facts(url: URL) -> tuple[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            size = (
                await connection.execute(text("SELECT pg_database_size(current_database())"))
            ).scalar_one()
            return str(version), int(size)
    finally:
        await engine.dispose()


def facts(url: URL) -> tuple[str, int]:
    """The server's version and the database's size in bytes (catalog only)."""
    return asyncio.run(_facts(url))


def backends(database: str) -> dict[int, float]:
    """CPU seconds so far of each local server process serving ``database`` (Linux /proc).

    A backend's process title (its command line) names its database.
    """
    found = {}
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() != "postgres":
                continue
            title = (comm.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if f" {database} " in title:
                found[int(comm.parent.name)] = cpu_seconds(int(comm.parent.name))
        except (OSError, ValueError):
            continue
    return found


class BackendCpu:
    """CPU spent by the backends of one database between ``start`` and ``stop``.

    Polled in a thread, so that a backend which ends in between (when the ``hub sync``
    process closes its connections) counts with what it had spent by its last reading.
    """

    def __init__(self, database: str, every: float = 0.5) -> None:
        self.database, self.every = database, every
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._first = backends(self.database)
        self._last = dict(self._first)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.wait(self.every):
            self._last.update(backends(self.database))

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        self._last.update(backends(self.database))
        return sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())
