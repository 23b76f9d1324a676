"""Who sees what, in the policy's own words: one table, read by every path.

The policy speaks of client kinds, purposes, departments (sections), levels and kinds of
personal value; it knows nothing of GraphQL. What a piece of data *carries* (which
section it belongs to, the level it needs, which personal value it is) is declared where
that data is declared (the schema marks each of its fields with a ``Carries``), and
``View.decide`` says, for one caller, whether it is shown, masked or withheld.

- ``SECTIONS``: per client kind, how much of each department's section it may see:
  ``FULL`` (the records), ``SUMMARY`` (derived answers: flags, levels, banded totals) or
  ``NONE``.
- ``PURPOSE_LEVEL``: a declared purpose caps every section at a level: a caseworker doing
  proactive outreach sees flags and levels, not the records behind them.
- ``VALUES``: per client kind, and narrowed per purpose by ``PURPOSE_VALUES``, how each
  kind of personal value is treated: ``SHOWN``, ``MASKED`` (``310***********123X``,
  ``张*``, the street, a band such as ``1500-2000``) or ``WITHHELD``.
- Reach (which households a caller may see at all) is ``hub.households.reach``.

Deny by default: data that declares nothing is never shown (the schema's guard refuses
to build over an unclassified field, and a test walks them all).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import MappingProxyType

from adapters import idnumber
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Principal, Purpose


class Level(enum.IntEnum):
    """How much of a department's section may be seen."""

    NONE = 0
    SUMMARY = 1  # derived answers: flags, levels, stages, banded totals
    FULL = 2  # the department's records


class PersonalValue(enum.Enum):
    """Kinds of personal value, each treated by its own row of the table."""

    ID_NUMBER = "ID_NUMBER"  # 公民身份号码
    NAME = "NAME"  # 姓名
    ADDRESS = "ADDRESS"  # 住址
    DATE_OF_BIRTH = "DATE_OF_BIRTH"  # 出生日期
    AMOUNT = "AMOUNT"  # money given, paid or owed: benefits, costs, aid
    INCOME = "INCOME"  # what a household or person earns or receives as income


class Treatment(enum.IntEnum):
    """What happens to a personal value on its way to a caller (larger is stricter)."""

    SHOWN = 0
    MASKED = 1
    WITHHELD = 2


class Decision(enum.Enum):
    ALLOW = "ALLOW"
    MASK = "MASK"
    DENY = "DENY"


CIVIL = Source.CIVIL_AFFAIRS
CHARITY = Source.CHARITY
_NOTHING: dict[Source, Level] = {source: Level.NONE for source in Source}

# Client kind × department section.
SECTIONS: dict[ClientKind, dict[Source, Level]] = {
    ClientKind.AGENCY: {source: Level.FULL for source in Source},
    # A charity's own sector in full, a summary of the rest.
    ClientKind.CHARITY: {**{source: Level.SUMMARY for source in Source}, CHARITY: Level.FULL},
    ClientKind.PARTNER: _NOTHING,
    ClientKind.AUDITOR: _NOTHING,
    ClientKind.OPERATOR: _NOTHING,
}

# The most any section is seen at for a purpose (the kind's level, if lower, wins).
PURPOSE_LEVEL: dict[Purpose, Level] = {
    Purpose.CASE_MANAGEMENT: Level.FULL,
    Purpose.ELIGIBILITY_REVIEW: Level.FULL,
    Purpose.PROACTIVE_OUTREACH: Level.SUMMARY,  # flags and levels
    Purpose.CHARITY_MATCHING: Level.FULL,
    Purpose.CROSS_REGION_CHECK: Level.NONE,
    Purpose.AUDIT: Level.NONE,
    Purpose.OPERATIONS: Level.NONE,
}

_ALL = {value: Treatment.SHOWN for value in PersonalValue}
_MASKED_ALL = {value: Treatment.MASKED for value in PersonalValue}

# Client kind × kind of personal value.
VALUES: dict[ClientKind, dict[PersonalValue, Treatment]] = {
    ClientKind.AGENCY: _ALL,
    ClientKind.CHARITY: {
        **_MASKED_ALL,
        PersonalValue.DATE_OF_BIRTH: Treatment.WITHHELD,  # the age is enough to match
        PersonalValue.INCOME: Treatment.WITHHELD,
    },
    ClientKind.PARTNER: {value: Treatment.WITHHELD for value in PersonalValue},
    ClientKind.AUDITOR: {value: Treatment.WITHHELD for value in PersonalValue},
    ClientKind.OPERATOR: {value: Treatment.WITHHELD for value in PersonalValue},
}

# What a purpose adds: the stricter of this and the kind's treatment applies.
PURPOSE_VALUES: dict[Purpose, dict[PersonalValue, Treatment]] = {
    # Income is for deciding eligibility; managing a case sees it banded.
    Purpose.CASE_MANAGEMENT: {PersonalValue.INCOME: Treatment.MASKED},
    Purpose.ELIGIBILITY_REVIEW: {},
    # Finding households to contact needs who and where, not how much.
    Purpose.PROACTIVE_OUTREACH: {
        PersonalValue.AMOUNT: Treatment.MASKED,
        PersonalValue.INCOME: Treatment.WITHHELD,
    },
    Purpose.CHARITY_MATCHING: {},
    Purpose.CROSS_REGION_CHECK: {},
    Purpose.AUDIT: {},
    Purpose.OPERATIONS: {},
}


@dataclass(frozen=True, slots=True)
class Carries:
    """What a piece of data carries, declared where the data is declared.

    ``section``: the department whose data it is (None: not department data, e.g.
    paging, provenance, the audit log); ``level``: the least level of that section it
    needs; ``value``: the kind of personal value it is, if any; ``kinds``: only these
    client kinds may ask at all (root fields such as the disclosure log); ``lookup``: it
    looks households up by this kind of value, so only callers shown it in full may ask.
    """

    section: Source | None = None
    level: Level = Level.SUMMARY
    value: PersonalValue | None = None
    kinds: frozenset[ClientKind] | None = None
    lookup: PersonalValue | None = None

    @property
    def open(self) -> bool:
        """Whether every caller may see it as it is: nothing to decide."""
        return (
            self.section is None
            and self.value is None
            and self.kinds is None
            and (self.lookup is None)
        )


OPEN = Carries()


@dataclass(frozen=True)
class View:
    """What one kind of client, declaring one purpose, may see."""

    kind: ClientKind
    purpose: Purpose
    levels: Mapping[Source, Level]
    values: Mapping[PersonalValue, Treatment]

    def level(self, section: Source) -> Level:
        return self.levels[section]

    def treatment(self, value: PersonalValue) -> Treatment:
        return self.values[value]

    def may_look_up(self, value: PersonalValue) -> bool:
        """A lookup by a value confirms it: only for those shown it in full."""
        return self.values[value] is Treatment.SHOWN

    def decide(self, carries: Carries) -> Decision:
        if carries.kinds is not None and self.kind not in carries.kinds:
            return Decision.DENY
        if carries.lookup is not None and not self.may_look_up(carries.lookup):
            return Decision.DENY
        if carries.section is not None and self.levels[carries.section] < carries.level:
            return Decision.DENY
        if carries.value is not None:
            treatment = self.values[carries.value]
            if treatment is Treatment.WITHHELD:
                return Decision.DENY
            if treatment is Treatment.MASKED:
                return Decision.MASK
        return Decision.ALLOW


@cache
def view(kind: ClientKind, purpose: Purpose) -> View:
    """The view of ``kind`` declaring ``purpose`` (the same object every time)."""
    cap = PURPOSE_LEVEL[purpose]
    narrowed = PURPOSE_VALUES[purpose]
    # Read-only: the same view serves every request of its kind and purpose.
    return View(
        kind=kind,
        purpose=purpose,
        levels=MappingProxyType({s: min(level, cap) for s, level in SECTIONS[kind].items()}),
        values=MappingProxyType(
            {
                v: max(treatment, narrowed.get(v, Treatment.SHOWN))
                for v, treatment in VALUES[kind].items()
            }
        ),
    )


def view_of(principal: Principal) -> View:
    return view(principal.kind, principal.purpose)


_STREET = re.compile(r"^(.+?(?:街道|镇|乡))")


def mask(kind: PersonalValue, value: object) -> object:
    """The masked form of ``value`` (lists are masked item by item)."""
    if isinstance(value, list):
        return [mask(kind, item) for item in value]
    if value is None:
        return None
    if kind is PersonalValue.ID_NUMBER:
        return idnumber.mask(str(value))
    if kind is PersonalValue.NAME:
        # The surname and one star, whatever the length: the length says something too.
        return str(value)[:1] + "*"
    if kind is PersonalValue.ADDRESS:
        found = _STREET.match(str(value))
        return found.group(1) if found else "***"
    if kind in (PersonalValue.AMOUNT, PersonalValue.INCOME):
        return amount_band(Decimal(str(value)))
    raise ValueError(f"{kind.value} has no masked form; withhold it instead")


def amount_band(amount: Decimal) -> str:
    """A band that says how large an amount is without saying what it is."""
    width = Decimal(500) if amount < 5000 else Decimal(5000) if amount < 50000 else Decimal(50000)
    low = (amount // width) * width
    return f"{low:.0f}-{low + width:.0f}"
