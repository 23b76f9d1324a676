"""Expected refusals: what a mutation answers as a typed error rather than a failure."""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

Code = TypeVar("Code", bound=enum.Enum)


class Problem(Exception, Generic[Code]):
    """An expected refusal, reported to the caller as a typed error with its code.

    ``denied`` names a household out of the caller's reach, for the audit log only: the
    caller is told exactly what a target that does not exist would say.
    """

    def __init__(self, code: Code, message: str, *, denied: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.denied = denied
