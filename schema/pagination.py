"""What every Relay connection of the schema shares: its page info, its opaque cursors, and
the parts of a page read once, when first selected."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from schema.errors import bad_input
from schema.policy import OPEN, field

if TYPE_CHECKING:
    from schema.context import Context

S = TypeVar("S")
T = TypeVar("T")

NOT_OURS = "is not a cursor this API issued"


@strawberry.type(description="Pagination state of a connection (Relay).")
class PageInfo:
    has_next_page: bool = field(OPEN, description="Whether more items follow.")
    has_previous_page: bool = field(OPEN, description="Whether items come before.")
    start_cursor: str | None = field(OPEN, description="Cursor of the first edge.")
    end_cursor: str | None = field(OPEN, description="Cursor of the last edge.")


def _sealed_for(context: Context, kind: str) -> str:
    return f"{kind} cursor for {context.principal.client_id}"


def seal_cursor(context: Context, kind: str, *parts: str) -> str:
    """An opaque cursor of a ``kind`` of list: ``parts`` sealed for this client, so that it
    names nothing and is good only for this client and this kind of list."""
    return context.keys.seal("|".join(parts), context=_sealed_for(context, kind))


def open_cursor(
    context: Context, kind: str, cursor: str, *, parts: int, argument: str = "after"
) -> list[str]:
    """The ``parts`` a cursor of ``seal_cursor`` holds; any other string is bad input."""
    found = context.keys.unseal(cursor, context=_sealed_for(context, kind))
    fields = found.split("|") if found is not None else []
    if len(fields) != parts or not all(fields):
        raise bad_input(argument, NOT_OURS)
    return fields


def moment(text: str, argument: str = "after") -> datetime:
    """A cursor's time (ISO 8601 with its offset, as ``datetime.isoformat`` wrote it)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise bad_input(argument, NOT_OURS) from None
    if at.tzinfo is None:
        raise bad_input(argument, NOT_OURS)
    return at


def read_once(
    read: Callable[[S], Coroutine[Any, Any, T]],
) -> Callable[[S], Awaitable[T]]:
    """A part of a page (``async def page(self)``) read once per object, when first asked;
    every later field that asks shares that read."""
    name = f"_read_once_{read.__name__}"

    @functools.wraps(read)
    def shared(self: S) -> Awaitable[T]:
        found: asyncio.Future[T] | None = self.__dict__.get(name)
        if found is None:
            found = self.__dict__[name] = asyncio.ensure_future(read(self))
        return found

    return shared
