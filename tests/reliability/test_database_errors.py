"""What the hub calls its database being away (``DATABASE_UNAVAILABLE``, retry shortly) and
what it does not: a department's refused connection is the department's, however deep the
``OSError`` in its chain of causes."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from sqlalchemy import exc as sa_exc

from adapters.base import SourceUnavailable
from adapters.vocabulary import Source
from hub.db.session import unavailable


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


def department_refused() -> BaseException:
    """What an adapter raises when a department's port is closed."""
    try:
        try:
            raise ConnectionRefusedError(111, "Connect call failed")
        except OSError as exc:
            raise httpx.ConnectError("All connection attempts failed") from exc
    except httpx.ConnectError as exc:
        return caused(SourceUnavailable(Source.HOUSING, "connection refused"), exc)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),  # asyncpg, passed through
        caused(RuntimeError("while reading the token"), ConnectionResetError(104, "reset")),
        sa_exc.DBAPIError(
            "SELECT 1", {}, asyncpg.ConnectionDoesNotExistError(), connection_invalidated=True
        ),
        sa_exc.InterfaceError("SELECT 1", {}, asyncpg.ConnectionDoesNotExistError()),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=["refused", "reset-underneath", "invalidated", "closed-mid-statement", "pool-timeout"],
)
def test_a_database_that_cannot_be_reached_is_unavailable(error: BaseException):
    assert unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        department_refused(),
        caused(RuntimeError("a resolver failed"), department_refused()),
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
        ValueError("a bug"),
    ],
    ids=["department-refused", "department-underneath", "refused-statement", "bug"],
)
def test_anything_else_is_not(error: BaseException):
    assert not unavailable(error)
