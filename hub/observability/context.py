"""What the hub knows about the request being served, for its log lines, metrics and span.

One mutable ``RequestInfo`` per request, set at the door in a context variable: whoever
learns something later (the gate finds the principal, the schema the operation and its
outcome) fills it in place, so every line logged afterwards in that request, in any task
it started, carries it, and the door reads it all back for the access line.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field
from typing import Any

# The metric label of a request that never reached an operation (refused at the door, a
# document that did not parse); operation labels are otherwise root field names.
NO_OPERATION = "none"


@dataclass(slots=True)
class RequestInfo:
    request_id: str
    # The request's ASGI state: the gate puts the principal there once it is known.
    state: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)
    operation: str | None = None  # the client's operation name (scrubbed), or the label
    operation_type: str | None = None  # query, mutation
    label: str = NO_OPERATION  # the bounded name metrics and span names use (root field)
    outcome: str | None = None  # ok, partial, error (GraphQL); the door sets the rest
    codes: list[str] = field(default_factory=list)  # error codes of the answer, in order

    @property
    def principal(self) -> Any:
        return self.state.get("principal")

    def note_code(self, code: str) -> None:
        if code not in self.codes and len(self.codes) < 8:
            self.codes.append(code)


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "hub_request_info", default=None
)


def current() -> RequestInfo | None:
    """The request being served in this context, if any."""
    return _current.get()


def enter(info: RequestInfo) -> contextvars.Token[RequestInfo | None]:
    return _current.set(info)


def leave(token: contextvars.Token[RequestInfo | None]) -> None:
    _current.reset(token)


def note_code(code: str) -> None:
    """Remember a code the answer carries (a refusal at the door, a GraphQL error)."""
    info = _current.get()
    if info is not None:
        info.note_code(code)
