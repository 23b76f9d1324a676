"""What the hub derives from a household's records: plain functions of records and rules.

Each department's part of a household arrives as ``Part`` (its records keyed by household
ID or member ID number, with provenance). The functions here read a part, and the rules
where a threshold is involved, and return the records once each in a stable order with
the facts derived from them; every result records the version of the rules it was judged
by. Nothing here knows GraphQL: jobs and the schema call the same functions.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from adapters import charity as ch
from adapters import education as edu
from adapters import emergency_management as em
from adapters import health_insurance as hi
from adapters import housing as ho
from adapters import human_resources as hr
from adapters import records
from adapters.base import SourceError
from adapters.cache import Freshness
from adapters.education import EducationAidKind, EducationDifficulty
from adapters.vocabulary import Source, WorkAbility
from hub.rules import Rules

R = TypeVar("R")

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Part(Generic[R]):
    """One department's records for one household, with their provenance.

    ``keys`` are what the department was asked for: the household ID for civil affairs,
    the members' ID numbers (in household order) for the others.
    """

    source: Source
    keys: tuple[str, ...]
    records: Mapping[str, Sequence[R]]
    freshness: Freshness
    as_of: datetime
    latency_ms: float
    failure: SourceError | None = None  # why a STALE copy stands in

    def unique(self, identity: Callable[[R], Hashable] | None = None) -> list[R]:
        """Each record once, in key order: a record listed under several members (a
        shared dwelling, household aid) counts once."""
        seen: dict[Hashable, R] = {}
        for key in self.keys:
            for record in self.records.get(key, ()):
                seen.setdefault(record if identity is None else identity(record), record)
        return list(seen.values())


def _person(record: hi.MedicalRecord | edu.StudentRecord) -> str:
    # One record a person: the ID number tells them apart without hashing every claim.
    return record.id_number


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


# --- 医保 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MedicalFacts:
    insured: tuple[hi.MedicalRecord, ...]
    uninsured_id_numbers: tuple[str, ...]
    total_cost: Decimal  # every claim the department sent (24 months)
    total_out_of_pocket: Decimal
    total_assistance: Decimal
    # Out-of-pocket costs within the rules' window (expenditure_poverty.window_months).
    window_out_of_pocket: Decimal
    serious_illness: bool  # a 大病 claim, or window costs over the rules' amount
    rules_version: str


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day where it is shorter)."""
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def medical(part: Part[hi.MedicalRecord], rules: Rules, today: date) -> MedicalFacts:
    found = part.unique(_person)
    insured = {r.id_number for r in found}
    claims = [c for r in found for c in r.claims]
    window = rules.expenditure_poverty
    since = months_before(today, window.window_months)
    recent = _sum(c.out_of_pocket for c in claims if c.settled_on > since)
    return MedicalFacts(
        insured=tuple(found),
        uninsured_id_numbers=tuple(i for i in dict.fromkeys(part.keys) if i not in insured),
        total_cost=_sum(c.total_cost for c in claims),
        total_out_of_pocket=_sum(c.out_of_pocket for c in claims),
        total_assistance=_sum(p.amount for r in found for p in r.assistance),
        window_out_of_pocket=recent,
        serious_illness=any(c.serious_illness for c in claims)
        or recent > window.serious_illness_out_of_pocket,
        rules_version=rules.version,
    )


# --- 教育 -------------------------------------------------------------------------------

# Most severe first: 特别困难, 困难, 一般困难 (the enum's own order).
_SEVERITY = tuple(EducationDifficulty)


@dataclass(frozen=True, slots=True)
class EducationFacts:
    students: tuple[edu.StudentRecord, ...]
    difficulty: EducationDifficulty | None  # the most severe among the students
    aid_total: Decimal  # cash aid; home teaching carries no amount
    home_teaching: bool  # 送教上门
    rules_version: str


def student_aid_total(student: edu.StudentRecord) -> Decimal:
    return _sum(a.amount for a in student.aid if a.amount is not None)


def education(part: Part[edu.StudentRecord], rules: Rules) -> EducationFacts:
    found = part.unique(_person)
    levels = [s.difficulty for s in found if s.difficulty is not None]
    return EducationFacts(
        students=tuple(found),
        difficulty=min(levels, key=_SEVERITY.index) if levels else None,
        aid_total=_sum(student_aid_total(s) for s in found),
        home_teaching=any(a.kind is EducationAidKind.HOME_TEACHING for s in found for a in s.aid),
        rules_version=rules.version,
    )


# --- 住房 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HousingFacts:
    dwellings: tuple[ho.Dwelling, ...]
    # Of the dwelling the most members live in, per member living there.
    floor_area_per_person: Decimal | None
    hardship: bool  # under the rules' line per person, and no low-rent housing
    rules_version: str


def housing(part: Part[ho.Dwelling], rules: Rules) -> HousingFacts:
    found = part.unique(lambda d: d.dwelling_id)
    members = set(part.keys)
    home = max(found, key=lambda d: len(members.intersection(d.occupants)), default=None)
    living_there = len(members.intersection(home.occupants)) if home is not None else 0
    per_person = (
        (home.floor_area / max(1, living_there)).quantize(Decimal("0.01"))
        if home is not None
        else None
    )
    return HousingFacts(
        dwellings=tuple(found),
        floor_area_per_person=per_person,
        hardship=per_person is not None
        and per_person < rules.housing.floor_area_per_person
        and not any(d.low_rent is not None for d in found),
        rules_version=rules.version,
    )


# --- 人社 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmploymentFacts:
    members: tuple[hr.EmploymentRecord, ...]
    zero_employment: bool  # 零就业家庭
    rules_version: str


def employment(
    part: Part[hr.EmploymentRecord],
    household: records.Household | None,
    rules: Rules,
    today: date,
) -> EmploymentFacts:
    """零就业家庭: every member of working age, able to work and wanting work is out of work.

    The candidates are the members in the labour force as human resources records it
    (employed, in flexible work, or registered unemployed: seeking work); the retired
    and those not in the labour force (at school, caring) are not. With civil affairs'
    view of the household, they must also be of working age (the rules' range) and able
    to work, fully or partly. The household is zero-employment when there is a candidate
    and none is employed (the rules' employed statuses).
    """
    found = part.unique(lambda r: r.id_number)
    rule = rules.zero_employment
    candidates = [
        r for r in found if r.status in _LABOUR_FORCE or rule.counts_as_employed(r.status)
    ]
    if household is not None:
        able = {
            m.id_number
            for m in household.members
            if m.work_ability is not WorkAbility.NONE
            and rule.of_working_age(records.age_on(m.birth_date, today))
        }
        candidates = [r for r in candidates if r.id_number in able]
    return EmploymentFacts(
        members=tuple(found),
        zero_employment=bool(candidates)
        and not any(rule.counts_as_employed(r.status) for r in candidates),
        rules_version=rules.version,
    )


# In the labour force: working, or registered as seeking work.
_LABOUR_FORCE = frozenset(
    {
        hr.EmploymentStatus.EMPLOYED,
        hr.EmploymentStatus.FLEXIBLE,
        hr.EmploymentStatus.REGISTERED_UNEMPLOYED,
    }
)


# --- 应急管理 ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisasterFacts:
    impacts: tuple[em.DisasterRecord, ...]  # newest first
    total_relief: Decimal
    last_disaster_on: date | None
    rules_version: str


def disaster(part: Part[em.DisasterRecord], rules: Rules) -> DisasterFacts:
    found = part.unique(lambda r: (r.event.id, r.head_id_number))
    ordered = sorted(found, key=lambda r: (r.event.occurred_on, r.event.id), reverse=True)
    return DisasterFacts(
        impacts=tuple(ordered),
        total_relief=sum((r.total_relief for r in ordered), Decimal(0)),
        last_disaster_on=ordered[0].event.occurred_on if ordered else None,
        rules_version=rules.version,
    )


# --- 慈善 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CharityFacts:
    aid: tuple[ch.CharityAid, ...]  # most recent first
    total_amount: Decimal
    last_given_on: date | None
    rules_version: str


def charity(part: Part[ch.CharityAid], rules: Rules) -> CharityFacts:
    found = part.unique(lambda a: a.id)
    ordered = sorted(found, key=lambda a: (a.given_on, a.id), reverse=True)
    return CharityFacts(
        aid=tuple(ordered),
        total_amount=sum((a.amount for a in ordered), Decimal(0)),
        last_given_on=ordered[0].given_on if ordered else None,
        rules_version=rules.version,
    )
