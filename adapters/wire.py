"""Reading department answers: batching keys, spreading shared records, strict values.

What every adapter needs to turn a department's JSON into the hub's records, whatever
that department's conventions; each adapter keeps its own field names and code tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from adapters.base import BadUpstreamData
from adapters.vocabulary import Source

BATCH_LIMIT = 500

_RecordT = TypeVar("_RecordT")


def chunks(keys: Sequence[str], limit: int = BATCH_LIMIT) -> list[list[str]]:
    """The distinct keys, in order, in chunks a department accepts in one call."""
    unique = list(dict.fromkeys(keys))
    return [unique[i : i + limit] for i in range(0, len(unique), limit)]


@contextmanager
def reading(source: Source) -> Iterator[None]:
    """Turn any error while reading an upstream body into BadUpstreamData."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise BadUpstreamData(source, "response does not match the contract") from exc


def spread(
    records: Iterable[_RecordT],
    concerns: Callable[[_RecordT], Iterable[str]],
    chunk: Sequence[str],
    result: Mapping[str, list[_RecordT]],
) -> None:
    """List each record of one chunk's answer under every key of that chunk it concerns.

    A record that concerns several people (a household's) comes back in the answer of
    every chunk holding one of them; listing it only under the chunk's own keys keeps it
    from being listed twice under anyone.
    """
    wanted = set(chunk)
    for record in records:
        for key in concerns(record):
            if key in wanted:
                result[key].append(record)


def day(value: Any, separator: str = "-") -> date:
    """A date written yyyy-mm-dd (with ``separator`` between the parts), and nothing else."""
    if (
        not isinstance(value, str)
        or len(value) != 10
        or value[4] != separator
        or value[7] != separator
    ):
        raise ValueError(f"date is not yyyy{separator}mm{separator}dd")
    return date.fromisoformat(value if separator == "-" else value.replace(separator, "-"))


def yuan_text(value: Any) -> Decimal:
    """An amount in yuan sent as a decimal string ("1000.50"): exact, finite, not negative."""
    if not isinstance(value, str):
        raise TypeError("amount is not a string")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("not an amount")
    return amount
