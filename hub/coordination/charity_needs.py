"""Needs of consented households that charities may help with (慈善衔接: 需求).

What a household's departments say it needs, derived from the judged facts
(``hub.households.facts``) by plain functions: flags, levels and the one figure behind
each need (yuan, which the policy bands for charities), never income and never anyone's
ID number or name. A page of households costs one call per department, whatever the page
holds. Nothing here knows GraphQL.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters import records
from adapters.base import SourceError
from adapters.cache import Freshness
from adapters.education import EducationDifficulty
from adapters.emergency_management import DisasterDamageLevel, DisasterType
from adapters.vocabulary import AssistanceCategory, Source
from hub.households import facts
from hub.households.facts import Part
from hub.households.service import (
    Households,
    Judged,
    Outcome,
    Provenance,
    Withheld,
    provenance,
)
from hub.index.search import IndexEntry
from hub.rules import Rules


class NeedKind(enum.Enum):
    """What a household needs that a charity may help with."""

    MEDICAL_BILLS = "MEDICAL_BILLS"  # 大病, or the medical costs of 支出型贫困
    SCHOOL_COSTS = "SCHOOL_COSTS"  # students of a household in difficulty
    DISASTER = "DISASTER"  # a home damaged by a recent disaster
    HOUSING = "HOUSING"  # 住房困难
    DISABILITY = "DISABILITY"  # a severely disabled member


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """One need, derived from one department's records; ``amount`` is the figure behind
    it where there is one (yuan), ``summary`` says what holds in words, without figures."""

    kind: NeedKind
    department: Source
    summary: str
    amount: Decimal | None
    rules_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicalBills(Need):
    serious_illness: bool
    window_months: int  # the out-of-pocket costs are those of this many months


@dataclass(frozen=True, slots=True, kw_only=True)
class SchoolCosts(Need):
    students: int
    difficulty: EducationDifficulty | None  # the most severe recognised


@dataclass(frozen=True, slots=True, kw_only=True)
class DisasterDamage(Need):
    disaster_type: DisasterType
    occurred_on: date
    damage_level: DisasterDamageLevel


@dataclass(frozen=True, slots=True, kw_only=True)
class HousingHardship(Need):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SevereDisability(Need):
    members: int


def medical_bills(
    found: facts.MedicalFacts, categories: Sequence[AssistanceCategory], rules: Rules
) -> MedicalBills | None:
    """A serious illness (大病), or out-of-pocket costs of a 支出型贫困 household."""
    spending = AssistanceCategory.EXPENDITURE_POVERTY in categories
    if not found.serious_illness and not (spending and found.window_out_of_pocket > 0):
        return None
    months = rules.expenditure_poverty.window_months
    why = "a serious illness (大病)" if found.serious_illness else "支出型贫困 medical costs"
    return MedicalBills(
        kind=NeedKind.MEDICAL_BILLS,
        department=Source.HEALTH_INSURANCE,
        summary=f"医保: {why}; the amount is what the members paid themselves (个人负担) "
        f"over the last {months} months.",
        amount=found.window_out_of_pocket,
        rules_version=found.rules_version,
        serious_illness=found.serious_illness,
        window_months=months,
    )


def school_costs(
    found: facts.EducationFacts, categories: Sequence[AssistanceCategory]
) -> SchoolCosts | None:
    """Students with a recognised difficulty, or students of an assisted household."""
    assisted = bool(set(categories) - {AssistanceCategory.TEMPORARY})
    if not found.students or (found.difficulty is None and not assisted):
        return None
    return SchoolCosts(
        kind=NeedKind.SCHOOL_COSTS,
        department=Source.EDUCATION,
        summary="教育: students of a household in difficulty; the amount is the cash "
        "education aid already received this and last school year.",
        amount=found.aid_total,
        rules_version=found.rules_version,
        students=len(found.students),
        difficulty=found.difficulty,
    )


def disaster_damage(found: facts.DisasterFacts, rules: Rules, today: date) -> DisasterDamage | None:
    """The most recent disaster within the rules' transitional-relief window."""
    since = today - timedelta(days=rules.disaster.transitional_relief_days)
    recent = next((r for r in found.impacts if since <= r.event.occurred_on <= today), None)
    if recent is None:
        return None
    return DisasterDamage(
        kind=NeedKind.DISASTER,
        department=Source.EMERGENCY_MANAGEMENT,
        summary="应急管理: the home was damaged by a recent disaster; the amount is the relief "
        "already paid for it.",
        amount=recent.total_relief,
        rules_version=found.rules_version,
        disaster_type=recent.event.type,
        occurred_on=recent.event.occurred_on,
        damage_level=recent.damage_level,
    )


def housing_hardship(found: facts.HousingFacts) -> HousingHardship | None:
    """住房困难 as the housing facts judge it."""
    if not found.hardship:
        return None
    return HousingHardship(
        kind=NeedKind.HOUSING,
        department=Source.HOUSING,
        summary="住房: floor area per person under the rules' line, and no low-rent housing "
        "(廉租住房).",
        amount=None,
        rules_version=found.rules_version,
    )


def severe_disability(household: records.Household, rules: Rules) -> SevereDisability | None:
    """Members whose disability is of the rules' severe grades (重度残疾)."""
    grades = rules.disability_care.grades
    severe = [m for m in household.members if m.disability_grade in grades]
    if not severe:
        return None
    return SevereDisability(
        kind=NeedKind.DISABILITY,
        department=Source.CIVIL_AFFAIRS,
        summary="民政: a member with a severe disability (重度残疾).",
        amount=None,
        rules_version=rules.version,
        members=len(severe),
    )


@dataclass(frozen=True, slots=True)
class HouseholdNeeds:
    """A household's needs, and where each department's part of the answer came from."""

    entry: IndexEntry
    needs: tuple[Need, ...]
    sources: tuple[Provenance, ...]
    failures: tuple[SourceError, ...]  # departments that could not be read
    stale: tuple[Part[Any], ...]  # parts served from an earlier copy


# The departments needs are judged from (civil affairs is read, not judged).
JUDGED = (
    Source.HEALTH_INSURANCE,
    Source.EDUCATION,
    Source.HOUSING,
    Source.EMERGENCY_MANAGEMENT,
)
Verdict = Judged | SourceError | Withheld


def needs_of(
    entry: IndexEntry,
    judged: Mapping[Source, Verdict | None],
    civil: Outcome | None,
    rules: Rules,
    today: date,
) -> HouseholdNeeds:
    """One household's needs from its departments' judged parts and civil affairs' record."""
    found: list[Need | None] = []
    origins: list[Provenance] = []
    failures: list[SourceError] = []
    stale: list[Part[Any]] = []
    for source, outcome in (*judged.items(), (Source.CIVIL_AFFAIRS, civil)):
        part = outcome.part if isinstance(outcome, Judged) else outcome
        if isinstance(part, Part | SourceError):
            origins.append(provenance(source, part))
        if isinstance(part, SourceError):
            failures.append(part)
        elif isinstance(part, Part) and part.freshness is Freshness.STALE:
            stale.append(part)
    categories = entry.categories
    for source, outcome in judged.items():
        if not isinstance(outcome, Judged):
            continue
        if source is Source.HEALTH_INSURANCE:
            found.append(medical_bills(outcome.facts, categories, rules))
        elif source is Source.EDUCATION:
            found.append(school_costs(outcome.facts, categories))
        elif source is Source.HOUSING:
            found.append(housing_hardship(outcome.facts))
        elif source is Source.EMERGENCY_MANAGEMENT:
            found.append(disaster_damage(outcome.facts, rules, today))
    if isinstance(civil, Part):
        household = civil.records.get(entry.household_id, ())
        if household:
            found.append(severe_disability(household[0], rules))
    ordered = sorted(
        (n for n in found if n is not None), key=lambda n: list(NeedKind).index(n.kind)
    )
    return HouseholdNeeds(entry, tuple(ordered), tuple(origins), tuple(failures), tuple(stale))


async def needs(households: Households, entries: Sequence[IndexEntry]) -> list[HouseholdNeeds]:
    """The needs of each household of a page (in reach: read through ``households``), in
    the page's order: one call per department for the whole page."""
    ids = [e.household_id for e in entries]
    if not ids:
        return []
    judged, civil = await asyncio.gather(
        asyncio.gather(*(households.judged(source, ids) for source in JUDGED)),
        households.parts(Source.CIVIL_AFFAIRS, ids),
    )
    by_source = dict(zip(JUDGED, judged, strict=True))
    return [
        needs_of(
            entry,
            {source: by_source[source].get(entry.household_id) for source in JUDGED},
            civil.get(entry.household_id),
            households.rules,
            households.today,
        )
        for entry in entries
    ]
