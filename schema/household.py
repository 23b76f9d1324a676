"""The household: what the index knows, with each department's section read live.

Resolvers only shape answers: the household service reads the index with reach, fetches
each department's part in batches and judges it (``hub.households``); a section the
caller's view does not show is null, and ``sources`` says it was withheld.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, cast

import strawberry

from adapters import human_resources as hr
from adapters import records
from adapters.base import SourceError
from adapters.cache import Freshness
from adapters.vocabulary import DISTRICT_NAMES, AssistanceCategory, District, HukouType, Source
from hub.coordination import charity as charity_aid
from hub.households import income
from hub.households.facts import Part
from hub.households.service import Withheld, provenance
from hub.index.search import IndexEntry
from schema import arguments
from schema.context import Info
from schema.coordination.alerts import AGENCIES, Alert
from schema.coordination.charity import recorded_aid
from schema.coordination.income import GradualWithdrawal, IncomeAssessment
from schema.coordination.referrals import REFERRALS, ReferralConnection, household_referrals
from schema.coordination.reviews import ChangeReport, ScheduledReview
from schema.errors import source_error, stale_notice
from schema.partners import CROSS_REGION, CrossRegion, cross_region
from schema.person import Person
from schema.policy import ID_NUMBER, OPEN, F, Mark, S, field, section
from schema.sections.charity import CharitySection
from schema.sections.civil_affairs import CivilAffairsSection
from schema.sections.disaster import DisasterSection
from schema.sections.education import EducationSection
from schema.sections.employment import EmploymentSection
from schema.sections.housing import HousingSection
from schema.sections.medical import MedicalSection
from schema.sources import SourceStatus


def _section(source: Source | None = None) -> Mark:
    """A whole department's section: withheld (null) where the view shows none of it."""
    return Mark(level=S, section=source, withheld_as_null=True)


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A household in hardship (困难家庭), keyed by its civil-affairs ID.")
class Household:
    entry: strawberry.Private[IndexEntry]

    @field(S, description="Civil-affairs household ID (户编号).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.entry.household_id)

    @field(S, description="District (区) the household is registered in.")
    def district(self) -> District:
        return self.entry.district

    @field(S, description="District name in Chinese, e.g. 浦东新区.")
    def district_name(self) -> str:
        return DISTRICT_NAMES[self.entry.district]

    @field(S, description="Street or town (街道、镇).")
    def street(self) -> str:
        return self.entry.street

    @field(F, description="Household registration type (户籍类型).")
    def hukou_type(self) -> HukouType:
        return self.entry.hukou_type

    @field(S, description="Categories the household is actively enrolled in.")
    def categories(self) -> list[AssistanceCategory]:
        return list(self.entry.categories)

    @field(F, description="The latest review across active enrollments, if any.")
    def last_reviewed_on(self) -> date | None:
        return self.entry.last_reviewed_on

    @field(_section(), description="Members, read live from civil affairs; null if it is down.")
    async def members(self, info: Info) -> list[Person] | None:
        household = await _civil_affairs(info, self.entry.household_id, "members")
        return cast(list[Person], list(household.members)) if household else None

    @field(_section(), description="民政: assistance enrollments, read live from civil affairs.")
    async def civil_affairs(self, info: Info) -> CivilAffairsSection | None:
        household = await _civil_affairs(info, self.entry.household_id, "civilAffairs")
        return cast(CivilAffairsSection, household)

    @field(
        _section(Source.HEALTH_INSURANCE),
        description="医保: insurance, claims and medical assistance (医疗救助).",
    )
    async def medical(self, info: Info) -> MedicalSection | None:
        return cast(MedicalSection, await _facts(info, Source.HEALTH_INSURANCE, self, "medical"))

    @field(
        _section(Source.EDUCATION),
        description="教育: students, financial-difficulty recognition, education aid.",
    )
    async def education(self, info: Info) -> EducationSection | None:
        return cast(EducationSection, await _facts(info, Source.EDUCATION, self, "education"))

    @field(
        _section(Source.HOUSING),
        description="住房: dwelling, low-rent housing (廉租住房), renovation aid.",
    )
    async def housing(self, info: Info) -> HousingSection | None:
        return cast(HousingSection, await _facts(info, Source.HOUSING, self, "housing"))

    @field(
        _section(Source.HUMAN_RESOURCES),
        description="人社: employment, social insurance, pensions, job services.",
    )
    async def employment(self, info: Info) -> EmploymentSection | None:
        return cast(
            EmploymentSection, await _facts(info, Source.HUMAN_RESOURCES, self, "employment")
        )

    @field(
        _section(Source.EMERGENCY_MANAGEMENT),
        description="应急管理: disasters that hit the household and relief given.",
    )
    async def disaster(self, info: Info) -> DisasterSection | None:
        return cast(
            DisasterSection, await _facts(info, Source.EMERGENCY_MANAGEMENT, self, "disaster")
        )

    @field(
        _section(Source.CHARITY),
        description="慈善: aid from charity organisations to the household: the charity "
        "department's records and the aid charities recorded through the hub.",
    )
    async def charity(self, info: Info) -> CharitySection | None:
        # The department's records and the aid recorded through the hub, side by side.
        found, recorded = await asyncio.gather(
            _facts(info, Source.CHARITY, self, "charity"),
            recorded_aid(info, self.entry.household_id),
        )
        if found is None:
            return None
        return cast(CharitySection, charity_aid.combined(found, recorded))

    @field(
        CROSS_REGION,
        description="长三角: what partner regions' hubs say of the members (agencies only); "
        "a partner that fails costs only its part, with an error naming its region.",
    )
    async def cross_region(self, info: Info) -> CrossRegion | None:
        return await cross_region(info, self.entry)

    @field(S, description="核定收入: the assessed income as the rules count it; null if none.")
    async def income_assessment(self, info: Info) -> IncomeAssessment | None:
        found = await _income(info, self.entry.household_id)
        return cast(IncomeAssessment, found[1]) if found else None

    @field(S, description="救助渐退: the gradual withdrawal the household is in, if any.")
    async def gradual_withdrawal(self, info: Info) -> GradualWithdrawal | None:
        found = await _income(info, self.entry.household_id)
        if found is None:
            return None
        household, counted, employment = found
        ongoing = income.withdrawal(
            household, employment, counted, info.context.households.rules, info.context.today
        )
        return cast(GradualWithdrawal, ongoing)

    @field(AGENCIES, description="主动发现: the household's alerts that are not resolved.")
    async def alerts(self, info: Info) -> list[Alert]:
        household_id = self.entry.household_id
        found = await info.context.loaders.alerts_by_household.load(household_id)
        info.context.access.saw(household_id, "alerts")
        return cast(list[Alert], found or [])

    @field(
        REFERRALS,
        description="转介: referrals of this household to or from the caller's department, "
        "newest first (agencies only).",
    )
    async def referrals(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ReferralConnection | None:
        return household_referrals(info, self.entry.household_id, first=first, after=after)

    @field(S, description="动态管理: when each active enrollment is next reviewed, and why.")
    async def reviews(self, info: Info) -> list[ScheduledReview]:
        household_id = self.entry.household_id
        found = await info.context.loaders.reviews_by_household.load(household_id)
        info.context.access.saw(household_id, "reviews")
        return cast(list[ScheduledReview], found or [])

    @field(S, description="主动报告: changes reported for the household, newest first.")
    async def change_reports(self, info: Info) -> list[ChangeReport]:
        household_id = self.entry.household_id
        found = await info.context.loaders.changes_by_household.load(household_id)
        info.context.access.saw(household_id, "reviews")
        return cast(list[ChangeReport], found or [])

    @field(
        S,
        description="Each department's part in this answer: fresh, stale (as of when), "
        "unavailable or withheld, and how long it took.",
    )
    async def sources(self, info: Info) -> list[SourceStatus]:
        household_id = self.entry.household_id
        loaders = info.context.loaders.part_by_household
        outcomes = await asyncio.gather(
            *(loaders[source].load(household_id) for source in Source), return_exceptions=True
        )
        found = []
        for source, outcome in zip(Source, outcomes, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, SourceError):
                raise outcome
            if outcome is not None:
                found.append(provenance(source, outcome))
        return cast(list[SourceStatus], found)


async def _civil_affairs(info: Info, household_id: str, part: str) -> records.Household | None:
    loader = info.context.loaders.part_by_household[Source.CIVIL_AFFAIRS]
    try:
        outcome = await loader.load(household_id)
    except SourceError as exc:
        raise source_error(exc) from exc
    if not isinstance(outcome, Part):
        return None
    _note_if_stale(info, outcome)
    found = outcome.records.get(household_id, ())
    if not found:
        return None
    info.context.access.saw(household_id, part)
    return cast(records.Household, found[0])


async def _income(
    info: Info, household_id: str
) -> tuple[records.Household, income.IncomeFacts, list[hr.EmploymentRecord]] | None:
    """Civil affairs' household, its income as the rules count it, and its employment."""
    loaders = info.context.loaders.part_by_household
    civil, work = await asyncio.gather(
        loaders[Source.CIVIL_AFFAIRS].load(household_id),
        loaders[Source.HUMAN_RESOURCES].load(household_id),
    )
    if not isinstance(civil, Part) or not isinstance(work, Part):
        return None  # a department down, or withheld: nothing to count
    found = civil.records.get(household_id, ())
    if not found:
        return None
    household = cast(records.Household, found[0])
    employment = work.unique(lambda r: r.id_number)
    context = info.context
    counted = income.income(household, employment, context.households.rules, context.today)
    if counted is None:
        return None
    context.access.saw(household_id, "income")
    return household, counted, employment


async def _facts(info: Info, source: Source, household: Household, part: str) -> Any:
    """A department's judged part of the household, or a GraphQL error naming it.

    A stale copy standing in for a failed department is served, with an error beside it
    that names the department and says how old the copy is.
    """
    household_id = household.entry.household_id
    context = info.context
    try:
        judged = await context.loaders.facts_by_household[source].load(household_id)
    except SourceError as exc:
        raise source_error(exc) from exc
    if judged is None or isinstance(judged, Withheld):
        return None
    _note_if_stale(info, judged.part)
    context.access.saw(household_id, part)
    return judged.facts


def _note_if_stale(info: Info, outcome: Part[Any]) -> None:
    if outcome.freshness is Freshness.STALE and outcome.failure is not None:
        info.context.notices.append(stale_notice(outcome.failure, outcome.as_of, info.path))


@strawberry.type
class HouseholdQuery:
    @field(OPEN, description="A household by its civil-affairs ID; null if unknown.")
    async def household(self, info: Info, id: strawberry.ID) -> Household | None:
        entry = await info.context.loaders.entry_by_id.load(arguments.household_id("id", id))
        return Household(entry=entry) if entry else None

    @field(
        Mark(open=True, lookup=ID_NUMBER),
        description="The household one person belongs to; null if unknown. Only for clients "
        "that see full ID numbers; each lookup is audited.",
    )
    async def household_by_member(self, info: Info, id_number: str) -> Household | None:
        value = _looked_up(info, id_number)
        household_id = await info.context.loaders.household_id_by_member.load(value)
        if household_id is None:
            return None
        entry = await info.context.loaders.entry_by_id.load(household_id)
        return Household(entry=entry) if entry else None

    @field(
        Mark(open=True, lookup=ID_NUMBER),
        description="A person by ID number, read live from civil affairs. Only for clients "
        "that see full ID numbers; each lookup is audited.",
    )
    async def person(self, info: Info, id_number: str) -> Person | None:
        value = _looked_up(info, id_number)
        # Only people of households in reach exist for the caller; the index says which.
        household_id = await info.context.loaders.household_id_by_member.load(value)
        if household_id is None:
            return None
        if await info.context.loaders.entry_by_id.load(household_id) is None:
            return None
        try:
            member = await info.context.loaders.person_by_id_number.load(value)
        except SourceError as exc:
            raise source_error(exc) from exc
        if member is None:
            return None
        info.context.access.saw(household_id, "members")
        return cast(Person, member)


def _looked_up(info: Info, id_number: str) -> str:
    """The ID number to look up, once valid; the lookup is audited whatever it finds."""
    value = arguments.id_number("idNumber", id_number)
    info.context.access.looked_up(info.context.keys.lookup_hash(value))
    return value
