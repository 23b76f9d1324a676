"""Expected refusals: what a mutation answers as a typed error rather than a failure."""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

Code = TypeVar("Code", bound=enum.Enum)


class Problem(Exception, Generic[Code]):
    """An expected refusal, reported to the caller as a typed error with its code.

    For the audit log only: ``denied`` names a household out of the caller's reach (the
    caller is told exactly what a target that does not exist would say), ``missing`` a
    household that does not exist, ``seen`` the household of a target the caller may see,
    which the answer speaks of.
    """

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        denied: str | None = None,
        missing: str | None = None,
        seen: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.denied = denied
        self.missing = missing
        self.seen = seen
