"""The adapter protocol and the errors every adapter raises.

An adapter owns one department's wire format. What crosses this boundary is the hub's
record types (``adapters.records``) and these errors; nothing outside the adapter knows
how the department spells a field.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from adapters.vocabulary import Source

RecordT_co = TypeVar("RecordT_co", covariant=True)


class SourceError(Exception):
    """A department could not give a usable answer.

    ``code`` is what the GraphQL layer reports; ``retryable`` says whether asking
    again later may succeed. The message is safe to show: it never carries upstream
    bodies or personal data.
    """

    code = "SOURCE_ERROR"
    retryable = True

    def __init__(self, source: Source, message: str) -> None:
        super().__init__(f"{source.value}: {message}")
        self.source = source
        self.message = message


class SourceUnavailable(SourceError):
    """The department is down, refused the connection, or answered 5xx."""

    code = "SOURCE_UNAVAILABLE"


class SourceTimeout(SourceError):
    """The department did not answer within its timeout or the request deadline."""

    code = "SOURCE_TIMEOUT"


class BadUpstreamData(SourceError):
    """The department answered, but with data the adapter cannot read."""

    code = "SOURCE_BAD_DATA"
    retryable = False


class HealthStatus(enum.Enum):
    UP = "UP"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class Health:
    source: Source
    status: HealthStatus
    latency_ms: float
    detail: str = ""


@runtime_checkable
class Adapter(Protocol[RecordT_co]):
    """What every department adapter offers the hub.

    ``fetch`` is a batch read: one upstream call for all keys, results keyed by the
    requested key, with an empty list for a key the department does not know.
    """

    source: Source

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[RecordT_co]]: ...

    async def health(self) -> Health: ...
