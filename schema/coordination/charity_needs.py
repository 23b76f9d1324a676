"""Needs of households in reach, as charities match them (慈善衔接): the types and the list.

Each need is derived from one department's records (``hub.coordination.charity_needs``)
and is a type of that department's section, so that the policy decides per department:
needs are summary data (``SUMMARY``), the figure behind a need is an amount (``AMOUNT``),
banded for charities and for proactive outreach by the guard, never here. No need carries
income, an ID number or a name; the household is placed by district and street only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from adapters.education import EducationDifficulty
from adapters.emergency_management import DisasterDamageLevel, DisasterType
from adapters.vocabulary import (
    DISTRICT_NAMES,
    AssistanceCategory,
    District,
    Source,
)
from hub.coordination import charity_needs
from hub.coordination.charity_needs import HouseholdNeeds, NeedKind
from hub.index.search import HouseholdFilter, IndexEntry, Page
from schema import arguments
from schema.context import Context, Info
from schema.enums import described
from schema.errors import source_error, stale_notice
from schema.pagination import PageInfo, read_once
from schema.policy import AMOUNT, OPEN, RULES_VERSION, S, field, section
from schema.sections import disaster, education  # noqa: F401  (describe their enums first)
from schema.sources import SourceStatus

if TYPE_CHECKING:
    from schema.household import Household

LazyHousehold = Annotated["Household", strawberry.lazy("schema.household")]
CURSORS = "charity needs"  # its cursors' kind: good for no other list
PART = "charityNeeds"  # the part of a household the audit log names

described(
    NeedKind,
    "What a household needs that a charity may help with (慈善需求).",
    {
        "MEDICAL_BILLS": "医疗: a serious illness (大病), or the out-of-pocket medical costs of "
        "a 支出型贫困 household.",
        "SCHOOL_COSTS": "助学: students with a recognised financial difficulty "
        "(家庭经济困难认定), or students of an assisted household.",
        "DISASTER": "灾害: the home was damaged by a disaster within the rules' "
        "transitional-relief window.",
        "HOUSING": "住房困难: floor area per person under the rules' line, no low-rent housing.",
        "DISABILITY": "助残: a member with a severe disability (重度残疾, the rules' grades).",
    },
    name="HouseholdNeedKind",
)


@strawberry.interface(
    description="What every need of a household says, whichever department's records show "
    "it: what holds in words, and the figure behind it where there is one (never income)."
)
class Need:
    kind: NeedKind = field(S, description="What is needed.")
    department: Source = field(S, description="The department whose records show it.")
    summary: str = field(S, description="What holds, in words (no figures).")
    amount: Decimal | None = field(
        S,
        AMOUNT,
        description="The figure behind the need, yuan: MEDICAL_BILLS the members' own share "
        "of medical costs over the rules' window; SCHOOL_COSTS the cash education aid "
        "already received; DISASTER the relief already paid; null for the others. Banded "
        "for callers who see amounts only as bands.",
    )
    rules_version: str = field(S, description=RULES_VERSION)


@section(Source.HEALTH_INSURANCE)
@strawberry.type(description="医疗: medical bills (大病, or 支出型贫困 medical costs).")
class MedicalBillsNeed(Need):
    serious_illness: bool = field(S, description="大病: whether it is a serious illness.")
    window_months: int = field(S, description="The months the amount covers (the rules').")


@section(Source.EDUCATION)
@strawberry.type(description="助学: school costs of the household's students.")
class SchoolCostsNeed(Need):
    students: int = field(S, description="How many members are students.")
    difficulty: EducationDifficulty | None = field(
        S, description="The most severe difficulty recognised for any student; null if none."
    )


@section(Source.EMERGENCY_MANAGEMENT)
@strawberry.type(description="灾害: the home was damaged by a recent disaster.")
class DisasterNeed(Need):
    disaster_type: DisasterType = field(S, description="Kind of disaster (灾种).")
    occurred_on: date = field(S, description="When it struck.")
    damage_level: DisasterDamageLevel = field(S, description="Damage to the home (受灾程度).")


@section(Source.HOUSING)
@strawberry.type(description="住房困难: crowded housing without low-rent housing.")
class HousingNeed(Need):
    pass


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="助残: a member with a severe disability.")
class DisabilityNeed(Need):
    members: int = field(S, description="How many members have a severe disability.")


HouseholdNeed = Annotated[
    MedicalBillsNeed | SchoolCostsNeed | DisasterNeed | HousingNeed | DisabilityNeed,
    strawberry.union(
        "HouseholdNeed",
        description="One need of a household, of the type of the department whose records "
        "show it; every one is a `Need`.",
    ),
]
_TYPES: dict[type[charity_needs.Need], type[Need]] = {
    charity_needs.MedicalBills: MedicalBillsNeed,
    charity_needs.SchoolCosts: SchoolCostsNeed,
    charity_needs.DisasterDamage: DisasterNeed,
    charity_needs.HousingHardship: HousingNeed,
    charity_needs.SevereDisability: DisabilityNeed,
}


def _shown(need: charity_needs.Need) -> Need:
    values = {f.name: getattr(need, f.name) for f in dataclasses.fields(need)}
    return _TYPES[type(need)](**values)


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(
    description="慈善衔接: a household in the caller's reach (for a charity: one that consented "
    "to share with it), placed by district and street only, with what it needs."
)
class CharityNeed:
    found: strawberry.Private[HouseholdNeeds]

    @field(S, description="Civil-affairs household ID (户编号).")
    def household_id(self) -> strawberry.ID:
        return strawberry.ID(self.found.entry.household_id)

    @field(S, description="District (区).")
    def district(self) -> District:
        return self.found.entry.district

    @field(S, description="District name in Chinese, e.g. 浦东新区.")
    def district_name(self) -> str:
        return DISTRICT_NAMES[self.found.entry.district]

    @field(S, description="Street or town (街道、镇): no address is given.")
    def street(self) -> str:
        return self.found.entry.street

    @field(S, description="Categories the household is actively enrolled in.")
    def categories(self) -> list[AssistanceCategory]:
        return list(self.found.entry.categories)

    @field(S, description="How many members the household has.")
    def member_count(self) -> int:
        return len(self.found.entry.member_id_numbers)

    @field(
        OPEN,
        description="What the household needs, one entry per kind; a department that could "
        "not be read adds an error beside the answer, and its needs are missing.",
    )
    def needs(self, info: Info) -> list[HouseholdNeed]:
        for failure in self.found.failures:
            error = source_error(failure)
            error.path = info.path.as_list()
            info.context.notices.append(error)
        for part in self.found.stale:
            if part.failure is not None:
                info.context.notices.append(stale_notice(part.failure, part.as_of, info.path))
        return cast(list[HouseholdNeed], [_shown(n) for n in self.found.needs])

    @field(S, description="Each department the needs were derived from, and how it answered.")
    def sources(self) -> list[SourceStatus]:
        return cast(list[SourceStatus], list(self.found.sources))

    @field(S, description="The household, as the caller may see it.")
    def household(self) -> LazyHousehold:
        from schema.household import Household

        return Household(entry=self.found.entry)


@strawberry.type(description="A household's needs in a list, with its cursor.")
class CharityNeedEdge:
    cursor: str = field(
        OPEN,
        description="Pass as `after` to continue after this one; opaque, and good only for "
        "the client it was given to.",
    )
    node: CharityNeed = field(OPEN, description="The household and its needs.")


@dataclass
class NeedListing:
    """One ``charityNeeds`` query: the page of the index, then its needs, each read once,
    when first asked; the count only when it is selected."""

    context: Context
    first: int
    after: str | None

    @read_once
    async def page(self) -> Page:
        context = self.context
        page = await context.households.page(HouseholdFilter(), first=self.first, after=self.after)
        for entry in page.entries:
            context.loaders.entry_by_id.prime(entry.household_id, entry)
        return page

    @read_once
    async def needs(self) -> list[HouseholdNeeds]:
        page = await self.page()
        found = await charity_needs.needs(self.context.households, page.entries)
        for household in found:
            self.context.access.saw(household.entry.household_id, PART)
        return found

    @read_once
    async def count(self) -> int:
        self.context.access.listed([], counted=True)
        return await self.context.households.count(HouseholdFilter())

    def cursor(self, entry: IndexEntry) -> str:
        return arguments.encode_cursor(self.context, entry.household_id, CURSORS)


def after_id(context: Context, cursor: str) -> str:
    """The household ID a ``charityNeeds`` cursor of this client names."""
    return arguments.decode_cursor(context, "after", cursor, CURSORS)


@strawberry.type(
    description="Households in reach and their needs, in household-ID order (Relay connection)."
)
class CharityNeedConnection:
    listing: strawberry.Private[NeedListing]

    @field(OPEN, description="The households of this page, with their needs.")
    async def edges(self) -> list[CharityNeedEdge]:
        found = await self.listing.needs()
        return [
            CharityNeedEdge(cursor=self.listing.cursor(h.entry), node=CharityNeed(found=h))
            for h in found
        ]

    @field(OPEN, description="Where this page stands.")
    async def page_info(self) -> PageInfo:
        page = await self.listing.page()
        cursors = [self.listing.cursor(e) for e in page.entries]
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=self.listing.after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )

    @field(OPEN, description="How many households in the caller's reach there are.")
    async def total_count(self) -> int:
        return await self.listing.count()
