"""The household: what the index knows, with each department's section read live."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import strawberry

from adapters import records
from adapters.base import SourceError
from adapters.cache import Freshness, Sourced
from adapters.vocabulary import DISTRICT_NAMES, AssistanceCategory, District, HukouType, Source
from hub.auth.policy import Access, section_access
from hub.index.search import IndexEntry
from schema import arguments
from schema.context import Info
from schema.errors import source_error, stale_notice
from schema.loaders import SectionData
from schema.person import Person
from schema.sections.charity import CharitySection
from schema.sections.civil_affairs import CivilAffairsSection
from schema.sections.disaster import DisasterSection
from schema.sections.education import EducationSection
from schema.sections.employment import EmploymentSection
from schema.sections.housing import HousingSection
from schema.sections.medical import MedicalSection
from schema.sources import SourceState, SourceStatus


@strawberry.type(description="A household in hardship (困难家庭), keyed by its civil-affairs ID.")
class Household:
    entry: strawberry.Private[IndexEntry]

    @strawberry.field(description="Civil-affairs household ID (户编号).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.entry.household_id)

    @strawberry.field(description="District (区) the household is registered in.")
    def district(self) -> District:
        return self.entry.district

    @strawberry.field(description="District name in Chinese, e.g. 浦东新区.")
    def district_name(self) -> str:
        return DISTRICT_NAMES[self.entry.district]

    @strawberry.field(description="Street or town (街道、镇).")
    def street(self) -> str:
        return self.entry.street

    @strawberry.field(description="Household registration type (户籍类型).")
    def hukou_type(self) -> HukouType:
        return self.entry.hukou_type

    @strawberry.field(description="Categories the household is actively enrolled in.")
    def categories(self) -> list[AssistanceCategory]:
        return list(self.entry.categories)

    @strawberry.field(description="The latest review across active enrollments, if any.")
    def last_reviewed_on(self) -> date | None:
        return self.entry.last_reviewed_on

    @strawberry.field(description="Members, read live from civil affairs; null if it is down.")
    async def members(self, info: Info) -> list[Person] | None:
        household = await _civil_affairs(info, self.entry.household_id)
        return [Person(record=m) for m in household.members] if household else None

    @strawberry.field(description="民政: assistance enrollments, read live from civil affairs.")
    async def civil_affairs(self, info: Info) -> CivilAffairsSection | None:
        household = await _civil_affairs(info, self.entry.household_id)
        return CivilAffairsSection.from_record(household) if household else None

    @strawberry.field(description="医保: insurance, claims and medical assistance (医疗救助).")
    async def medical(self, info: Info) -> MedicalSection | None:
        data = await section(info, Source.HEALTH_INSURANCE, self.entry.household_id)
        return MedicalSection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(
        description="教育: students, financial-difficulty recognition, education aid."
    )
    async def education(self, info: Info) -> EducationSection | None:
        data = await section(info, Source.EDUCATION, self.entry.household_id)
        return EducationSection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(description="住房: dwelling, low-rent housing (廉租住房), renovation aid.")
    async def housing(self, info: Info) -> HousingSection | None:
        data = await section(info, Source.HOUSING, self.entry.household_id)
        return HousingSection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(description="人社: employment, social insurance, pensions, job services.")
    async def employment(self, info: Info) -> EmploymentSection | None:
        data = await section(info, Source.HUMAN_RESOURCES, self.entry.household_id)
        return EmploymentSection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(description="应急管理: disasters that hit the household and relief given.")
    async def disaster(self, info: Info) -> DisasterSection | None:
        data = await section(info, Source.EMERGENCY_MANAGEMENT, self.entry.household_id)
        return DisasterSection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(description="慈善: aid from charity organisations to the household.")
    async def charity(self, info: Info) -> CharitySection | None:
        data = await section(info, Source.CHARITY, self.entry.household_id)
        return CharitySection.from_records(data.member_ids, data.records) if data else None

    @strawberry.field(
        description="Each department's part in this answer: fresh, stale (as of when) or "
        "unavailable, and how long it took."
    )
    async def sources(self, info: Info) -> list[SourceStatus]:
        loaders = info.context.loaders
        hid = self.entry.household_id
        principal = info.context.principal
        # A section the caller may not see is not fetched at all: it is withheld.
        shown = [s for s in Source if section_access(principal, s) is not Access.NONE]
        outcomes = await asyncio.gather(
            *(
                loaders.civil_affairs_by_household.load(hid)
                if source is Source.CIVIL_AFFAIRS
                else loaders.section_by_household[source].load(hid)
                for source in shown
            ),
            return_exceptions=True,
        )
        found = dict(zip(shown, outcomes, strict=True))
        return [
            _status(source, found[source]) if source in found else _withheld(source)
            for source in Source
        ]


def _withheld(source: Source) -> SourceStatus:
    return SourceStatus(
        source=source, state=SourceState.WITHHELD, as_of=None, latency_ms=None, error_code=None
    )


def _status(source: Source, outcome: object) -> SourceStatus:
    if isinstance(outcome, SourceError):
        return SourceStatus(
            source=source,
            state=SourceState.UNAVAILABLE,
            as_of=None,
            latency_ms=None,
            error_code=outcome.code,
        )
    if isinstance(outcome, BaseException):
        raise outcome
    if isinstance(outcome, Sourced | SectionData):
        stale = outcome.freshness is Freshness.STALE
        return SourceStatus(
            source=source,
            state=SourceState.STALE if stale else SourceState.OK,
            as_of=outcome.as_of,
            latency_ms=round(outcome.latency_ms, 1),
            error_code=None,
        )
    return SourceStatus(
        source=source, state=SourceState.OK, as_of=None, latency_ms=None, error_code=None
    )


async def _civil_affairs(info: Info, household_id: str) -> records.Household | None:
    try:
        sourced = await info.context.loaders.civil_affairs_by_household.load(household_id)
    except SourceError as exc:
        raise source_error(exc) from exc
    if sourced is None:
        return None
    _note_if_stale(info, sourced)
    return sourced.records[0]


async def section(info: Info, source: Source, household_id: str) -> SectionData[Any] | None:
    """A department's records for a household, or a GraphQL error naming the department.

    A stale copy standing in for a failed department is served, with an error beside it
    that names the department and says how old the copy is.
    """
    try:
        data = await info.context.loaders.section_by_household[source].load(household_id)
    except SourceError as exc:
        raise source_error(exc) from exc
    if data is not None:
        _note_if_stale(info, data)
    return data


def _note_if_stale(info: Info, outcome: Sourced[Any] | SectionData[Any]) -> None:
    if outcome.freshness is Freshness.STALE and outcome.failure is not None:
        info.context.notices.append(stale_notice(outcome.failure, outcome.as_of, info.path))


@strawberry.type
class HouseholdQuery:
    @strawberry.field(description="A household by its civil-affairs ID; null if unknown.")
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        entry = await info.context.loaders.index_entry_by_id.load(arguments.household_id("id", id))
        return Household(entry=entry) if entry else None

    @strawberry.field(
        description="The household one person belongs to; null if unknown. Only for clients "
        "that see full ID numbers; each lookup is audited."
    )
    async def household_by_member(self, info: Info, id_number: str) -> Household | None:
        value = _looked_up(info, id_number)
        household_id = await info.context.loaders.household_id_by_member.load(value)
        if household_id is None:
            return None
        entry = await info.context.loaders.index_entry_by_id.load(household_id)
        return Household(entry=entry) if entry else None

    @strawberry.field(
        description="A person by ID number, read live from civil affairs. Only for clients "
        "that see full ID numbers; each lookup is audited."
    )
    async def person(self, info: Info, id_number: str) -> Person | None:
        value = _looked_up(info, id_number)
        # Only people of households in reach exist for the caller; the index says which.
        household_id = await info.context.loaders.household_id_by_member.load(value)
        if household_id is None:
            return None
        if await info.context.loaders.index_entry_by_id.load(household_id) is None:
            return None
        try:
            member = await info.context.loaders.person_by_id_number.load(value)
        except SourceError as exc:
            raise source_error(exc) from exc
        return Person(record=member) if member else None


def _looked_up(info: Info, id_number: str) -> str:
    """The ID number to look up, once valid; the lookup is audited whatever it finds."""
    value = arguments.id_number("idNumber", id_number)
    info.context.access.looked_up(info.context.keys.lookup_hash(value))
    return value
