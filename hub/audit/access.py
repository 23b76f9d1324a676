"""What one request touched of household data, gathered as it runs, for its audit entry.

Whatever the caller selected, every household the request resolved, was refused or
asked for in vain, every lookup by ID number (as a keyed hash), every listing (with its
filter) and every refusal of the whole request is noted here; ``record`` turns that into
the one ``AccessRecord`` the request appends. A request that touched nothing of this
writes no entry, unless it broke the glass: every break-glass request is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.audit.chain import FILTER_VALUES, AccessRecord
from hub.auth.principal import Principal
from hub.problems import Problem


@dataclass
class AccessLog:
    """What one request disclosed, refused and looked for."""

    granted: dict[str, set[str]] = field(default_factory=dict)  # household → parts seen
    denied: set[str] = field(default_factory=set)  # existing, out of the caller's reach
    # Lookups by ID number that found someone out of reach: the entry names the number
    # asked for (its keyed hash), not the household, as it does for numbers not found,
    # so that the two cost the same.
    lookups_denied: int = 0
    missing: set[str] = field(default_factory=set)  # asked for, but no such household
    lookups: dict[str, None] = field(default_factory=dict)  # keyed hashes, in order
    listing: dict[str, str] | None = None
    aggregate: bool = False
    refused: str | None = None
    attempted: bool = False  # a mutation was tried, whatever came of it

    @property
    def touched(self) -> bool:
        return bool(
            self.attempted
            or self.granted
            or self.denied
            or self.missing
            or self.lookups
            or self.listing is not None
            or self.refused
        )

    def saw(self, household_id: str, part: str) -> None:
        self.granted.setdefault(household_id, set()).add(part)

    def deny(self, household_id: str) -> None:
        self.denied.add(household_id)

    def miss(self, household_id: str) -> None:
        self.missing.add(household_id)

    def looked_up(self, keyed_hash: str) -> None:
        self.lookups[keyed_hash] = None

    def listed(self, where: Iterable[tuple[str, str]], *, counted: bool = False) -> None:
        """A listing with this filter; ``counted``: its total was given."""
        self.listing = {name: _kept(name, value) for name, value in where}
        self.aggregate = self.aggregate or counted

    def refuse(self, code: str) -> None:
        self.refused = self.refused or code

    def noted(self, problem: Problem[Any], part: str, *, refused: bool = False) -> None:
        """What a refused mutation touched: the household it was denied, did not find, or
        saw (as ``part``); ``refused``: the caller was not allowed the step at all."""
        if problem.denied is not None:
            self.deny(problem.denied)
        if problem.missing is not None:
            self.miss(problem.missing)
        if problem.seen is not None:
            self.saw(problem.seen, part)
        if refused:
            self.refuse(problem.code.value)

    def record(
        self, principal: Principal, *, request_id: str, operation: str
    ) -> AccessRecord | None:
        """The audit record of this request, or None when it touched no household data."""
        if not self.touched and principal.break_glass is None:
            return None
        households = tuple(sorted({*self.granted, *self.denied, *self.missing}))
        parts = tuple(sorted({part for seen in self.granted.values() for part in seen}))
        return AccessRecord(
            request_id=request_id,
            client_id=principal.client_id,
            client_kind=principal.kind.value,
            token_id=principal.token_id,
            purpose=principal.purpose.value,
            operation=operation[:128],
            households=households,
            sections=parts,
            outcome=self._outcome(),
            break_glass=principal.break_glass is not None,
            justification=principal.break_glass,
            lookups=tuple(self.lookups),
            listing=tuple(sorted(self.listing.items())) if self.listing is not None else None,
            aggregate=self.aggregate,
            refused=self.refused,
        )

    def _outcome(self) -> str:
        if self.refused:
            return "REFUSED"
        if self.granted:
            return "PARTIAL" if self.denied or self.missing or self.lookups_denied else "GRANTED"
        if self.denied or self.lookups_denied:
            return "DENIED"
        if self.listing is not None:
            return "GRANTED"
        if self.missing or self.lookups or self.attempted:
            return "NOT_FOUND"
        return "GRANTED"  # a break-glass request that read nothing


def _kept(name: str, value: str) -> str:
    """The filter value as the log keeps it: anything not shaped as expected is ``*``."""
    pattern = FILTER_VALUES.get(name)
    return value if pattern is not None and pattern.fullmatch(value) else "*"
