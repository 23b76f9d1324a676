"""Engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg), and telling a
database that is away from one that refused a statement."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from sqlalchemy import Engine, event, make_url
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from adapters.base import SourceError


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite, foreign keys on and WAL so readers do not block writers."""
    if url.startswith("sqlite") and ":memory:" not in url:
        # Each request reads the index and checks its token while others commit audit
        # entries; WAL lets them read side by side, so give them the connections to.
        kwargs = {"pool_size": 20, "max_overflow": 20, **kwargs}
    elif url.startswith("postgresql"):
        # A connection the pool kept through a network cut or a server restart is dead;
        # without a ping at checkout, the first request to draw it would fail. (A cut under
        # load needs no ping: the first failure invalidates the whole pool.)
        kwargs = {"pool_pre_ping": True, **kwargs}
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine.sync_engine, url)
    return engine


def create_thread_engine(url: str) -> Engine | None:
    """For a SQLite file, a plain (blocking) engine on the same file, for work that runs
    whole in a thread of its own: one trip there and back, where the async driver makes
    a trip to its thread for every cursor, statement, fetch and commit, each waiting for
    the event loop's turn under load. None for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = sa_create_engine(parsed.set(drivername="sqlite"), pool_size=4, max_overflow=4)
    _sqlite_pragmas(engine, url)
    return engine


def _sqlite_pragmas(engine: Engine, url: str) -> None:
    @event.listens_for(engine, "connect")
    def _connected(conn: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        cursor = conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


# What asyncpg raises when the server cannot be reached or the connection broke.
_CONNECTION_ERRORS = (
    OSError,  # refused, reset, unreachable, timed out connecting
    asyncpg.PostgresConnectionError,  # the connection closed in the middle of a statement
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.TooManyConnectionsError,
)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached (or the connection broke),
    as opposed to a statement it refused: the first is worth retrying shortly, the second
    is a bug. Looks through the chain of causes, since SQLAlchemy wraps the driver's errors
    and passes some (a refused connection) through unwrapped. A department's failure
    (``SourceError``, or httpx's own errors, which wrap the same ``OSError``) is not the
    database's, however deep its cause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (SourceError, httpx.HTTPError)):
            return False
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.TimeoutError, *_CONNECTION_ERRORS)):
            return True  # sa_exc.TimeoutError: no pooled connection came free in time
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and isinstance(orig, _CONNECTION_ERRORS):
            return True
        current = current.__cause__ or current.__context__
    return False


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
