"""The few assistance rules the synthetic population draws its amounts and review dates from.

The hub validates the rules file (``hub/rules/``), but adapters never import the hub, so
the sandbox reads the same TOML file itself, and only what it needs: the 低保 standard in
force on one day, the 特困 multiple of it, the review months per category, and the
severe-disability care subsidy (重残无业人员护理补贴) in force that day with the disability
grades it is paid for. The hub's
``hub.rules.synthetic_rules`` builds the same value from validated rules; a test keeps the
two readings in agreement.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.vocabulary import AssistanceCategory

# Beside adapters/ in a checkout and in an installed package alike.
RULES_FILE = Path(__file__).resolve().parents[2] / "hub" / "rules" / "shanghai.toml"


@dataclass(frozen=True, slots=True)
class ReviewMonths:
    """Months between reviews in one category; ``months`` is ``None`` for one-off aid."""

    category: AssistanceCategory
    months: int | None
    unstable_months: int | None = None


@dataclass(frozen=True, slots=True)
class SyntheticRules:
    """Plain, hashable data: the population generator caches on it.

    ``care_subsidy`` is the severe-disability care subsidy in yuan a month (None when none
    is in force), paid for the disability grades ``care_grades``. Their defaults are the
    packaged file's, for a builder that does not give them.
    """

    standard: Decimal
    extreme_hardship_multiple: Decimal
    review: tuple[ReviewMonths, ...]
    care_subsidy: Decimal | None = Decimal(410)
    care_grades: tuple[int, ...] = (1, 2)

    def review_months(
        self, category: AssistanceCategory, *, income_stable: bool, able_to_work_member: bool
    ) -> int | None:
        """Months between reviews for a household; ``None`` when it is never reviewed."""
        entry = next(r for r in self.review if r.category is category)
        if entry.unstable_months is not None and not income_stable and able_to_work_member:
            return entry.unstable_months
        return entry.months


def read(path: Path | None = None, *, on: date) -> SyntheticRules:
    """The synthetic rules from the rules file at ``path`` (default: the hub's packaged one).

    Raises ``ValueError`` when the file lacks what the sandbox needs; ``hub rules check``
    says what else is wrong with it.
    """
    where = RULES_FILE if path is None else path
    with where.open("rb") as f:
        data = tomllib.load(f, parse_float=Decimal)
    try:
        standard = _latest(data["minimum_living"]["standard"], on)
        if standard is None:
            raise ValueError(f"no 最低生活保障 standard in force on {on.isoformat()}")
        care = data["disability_care"]
        return SyntheticRules(
            standard=standard,
            extreme_hardship_multiple=Decimal(data["extreme_hardship"]["basic_living_multiple"]),
            review=tuple(_review(c, data["review"][c.value]) for c in AssistanceCategory),
            care_subsidy=_latest(care["subsidy"], on),
            care_grades=tuple(int(grade) for grade in care["grades"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: not a usable rules file (missing {exc})") from None


@functools.cache
def packaged(on: date) -> SyntheticRules:
    """The packaged file's synthetic rules on ``on``, read once per process."""
    return read(on=on)


def _latest(table: list[dict[str, Any]], on: date) -> Decimal | None:
    """The amount of a dated table in force on ``on``; None before its first entry."""
    amounts = [Decimal(e["amount"]) for e in table if e["from"] <= on]
    # The file lists entries oldest first (the hub checks it): the last one started is in force.
    return amounts[-1] if amounts else None


def _review(category: AssistanceCategory, entry: dict[str, Any]) -> ReviewMonths:
    months = None if entry.get("one_off", False) else int(entry["months"])
    unstable = entry.get("unstable_months")
    return ReviewMonths(category, months, None if unstable is None else int(unstable))
