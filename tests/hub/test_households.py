"""The households service without GraphQL: reach, the index, department parts, facts.

Every test syncs the index from the civil-affairs stand-in first, then reads through
``hub.households.service.Households`` as one caller (a reach and a view) would. Calls to
the departments are counted by the in-process stand-ins themselves.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import records
from adapters.base import SourceError, SourceUnavailable
from adapters.cache import Freshness
from adapters.human_resources import EmploymentStatus
from adapters.registry import AdapterConfig, Adapters
from adapters.sandbox.population import Population
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, Source, WorkAbility
from hub import rules as hub_rules
from hub.auth.policy import Level, View, view
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.db.models import Consent
from hub.households import facts
from hub.households.facts import Part
from hub.households.reach import EVERYTHING, Reach, reach_of
from hub.households.service import (
    WITHHELD,
    Households,
    Judged,
    Outcome,
    Provenance,
    State,
    gather_parts,
    provenance,
)
from hub.index.search import HouseholdFilter
from hub.index.sync import sync_households
from tests.conftest import FAST, faults, sandbox_url

RULES = hub_rules.load()
REVIEW = view(ClientKind.AGENCY, Purpose.ELIGIBILITY_REVIEW)
DEPARTMENTS = [s for s in Source if s is not Source.CIVIL_AFFAIRS]  # those with facts
UNKNOWN_HOUSEHOLD = "H3101159999999"
UNKNOWN_PERSON = "310101199001010011"

FACTS: dict[Source, type[Any]] = {
    Source.HEALTH_INSURANCE: facts.MedicalFacts,
    Source.EDUCATION: facts.EducationFacts,
    Source.HOUSING: facts.HousingFacts,
    Source.HUMAN_RESOURCES: facts.EmploymentFacts,
    Source.EMERGENCY_MANAGEMENT: facts.DisasterFacts,
    Source.CHARITY: facts.CharityFacts,
}


@pytest.fixture
async def synced(
    sessions: async_sessionmaker[AsyncSession], adapters: Adapters
) -> async_sessionmaker[AsyncSession]:
    """The database with the household index brought in line with civil affairs."""
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    return sessions


def _households(
    sessions: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    *,
    reach: Reach = EVERYTHING,
    seen_by: View = REVIEW,
) -> Households:
    return Households(
        sessions=sessions,
        adapters=adapters,
        rules=RULES,
        reach=reach,
        view=seen_by,
        now=datetime.now(UTC),
    )


def calls(transport: InProcessTransport) -> dict[Source, int]:
    """How many calls each department's stand-in has served so far."""
    return {s: transport.apps[sandbox_url(s).removeprefix("http://")].calls for s in Source}


def _since(transport: InProcessTransport, before: dict[Source, int]) -> dict[Source, int]:
    return {s: n - before[s] for s, n in calls(transport).items()}


def _busiest(population: Population) -> District:
    """The district with the most households, so that filters have something to find."""
    return Counter(h.district for h in population.households).most_common(1)[0][0]


def _in(population: Population, district: District) -> list[str]:
    return sorted(h.id for h in population.households if h.district is district)


def _first(population: Population, count: int) -> list[str]:
    return sorted(h.id for h in population.households)[:count]


def _zero_employment(household: records.Household, found: Part[Any], today: date) -> bool:
    """零就业家庭 computed from the rule itself, independently of ``facts.employment``:
    members of working age, able to work and in the labour force (working or seeking
    work), and none of them working."""
    rule = RULES.zero_employment
    seeking = {*rule.employed_statuses, EmploymentStatus.REGISTERED_UNEMPLOYED}
    statuses = [
        r.status
        for m in household.members
        if m.work_ability is not WorkAbility.NONE
        and rule.working_age_from <= records.age_on(m.birth_date, today) <= rule.working_age_to
        for r in found.records.get(m.id_number, ())
        if r.status in seeking
    ]
    return bool(statuses) and not any(s in rule.employed_statuses for s in statuses)


async def _provenance(households: Households, household_id: str) -> list[Provenance]:
    """How each department's part of a household was obtained, in ``Source`` order."""
    found = await gather_parts(households, [household_id])
    return [provenance(s, found[s][household_id]) for s in Source]


# --- the index, with reach --------------------------------------------------------------


def _principal(kind: ClientKind, purpose: Purpose, **changes: Any) -> Principal:
    return Principal(
        client_id="c-1", client_name="c", kind=kind, token_id="tk_1", purpose=purpose, **changes
    )


def test_each_kind_of_caller_has_its_reach() -> None:
    agency = _principal(
        ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, district=District.PUDONG, street="花木街道"
    )
    assert reach_of(agency) == Reach(district=District.PUDONG, street="花木街道")
    assert reach_of(_principal(ClientKind.AGENCY, Purpose.CASE_MANAGEMENT)) == EVERYTHING
    broke_glass = replace(agency, break_glass="火灾后紧急安置需要核实该户全部成员信息")
    assert reach_of(broke_glass) == EVERYTHING
    charity = _principal(ClientKind.CHARITY, Purpose.CHARITY_MATCHING, organisation_id="org-1")
    assert reach_of(charity) == Reach(
        consent_organisation="org-1", consent_purpose=Purpose.CHARITY_MATCHING
    )
    for kind, purpose in [
        (ClientKind.PARTNER, Purpose.CROSS_REGION_CHECK),
        (ClientKind.AUDITOR, Purpose.AUDIT),
        (ClientKind.OPERATOR, Purpose.OPERATIONS),
    ]:
        assert reach_of(_principal(kind, purpose)) == Reach(nothing=True)


async def test_entries_are_the_households_in_reach_as_the_index_knows_them(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    wanted = population.households[:3]
    households = _households(synced, adapters)
    found = await households.entries([h.id for h in wanted] + [UNKNOWN_HOUSEHOLD])
    assert list(found) == [h.id for h in wanted]
    for h in wanted:
        entry = found[h.id]
        assert (entry.district, entry.street) == (h.district, h.street)
        assert entry.member_id_numbers == tuple(m.id_number for m in h.members)
        assert set(entry.categories) == {
            e.category for e in h.enrollments if e.status is EnrollmentStatus.ACTIVE
        }
    assert households.access.missing == {UNKNOWN_HOUSEHOLD}
    assert households.access.denied == set()
    assert set(households.access.granted) == {h.id for h in wanted}


async def test_a_district_limited_reach_answers_for_other_districts_as_for_no_household(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    district = _busiest(population)
    inside = _in(population, district)[0]
    outside = next(h.id for h in population.households if h.district is not district)
    households = _households(synced, adapters, reach=Reach(district=district))
    found = await households.entries([inside, outside, UNKNOWN_HOUSEHOLD])
    assert list(found) == [inside]
    assert households.access.denied == {outside}
    assert households.access.missing == {UNKNOWN_HOUSEHOLD}
    assert set(households.access.granted) == {inside}


async def test_a_street_limited_reach_leaves_the_rest_of_its_district_out(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    district = _busiest(population)
    here = [population.by_id[i] for i in _in(population, district)]
    street = here[0].street
    other = next((h.id for h in here if h.street != street), None)
    assert other is not None, "expected two streets in the busiest district"
    households = _households(synced, adapters, reach=Reach(district=district, street=street))
    found = await households.entries([h.id for h in here])
    assert set(found) == {h.id for h in here if h.street == street}
    assert other in households.access.denied
    where = HouseholdFilter(district=district)
    assert await households.count(where) == len(found)


async def test_a_reach_of_nothing_finds_no_household_at_all(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    households = _households(synced, adapters, reach=Reach(nothing=True))
    ids = _first(population, 5)
    assert await households.entries(ids) == {}
    assert households.access.denied == set(ids)
    assert await households.count(HouseholdFilter()) == 0
    page = await households.page(HouseholdFilter(), first=10, after=None)
    assert (page.entries, page.has_next_page) == ((), False)


async def test_a_charity_reaches_only_households_with_a_live_consent_naming_it_or_any(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    now = datetime.now(UTC)
    mine, anyone, other, expired, withdrawn, wrong_purpose, none = _first(population, 7)

    def consent(household_id: str, organisation: str | None, **changes: Any) -> Consent:
        fields: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "household_id": household_id,
            "organisation_id": organisation,
            "purpose": Purpose.CHARITY_MATCHING.value,
            "granted_at": now - timedelta(days=1),
            "expires_at": now + timedelta(days=30),
            "withdrawn_at": None,
            "recorded_by": "pudong-mz",
            **changes,
        }
        return Consent(**fields)

    async with synced.begin() as session:
        session.add_all(
            [
                consent(mine, "org-0001"),
                consent(anyone, None),
                consent(other, "org-0002"),
                consent(expired, "org-0001", expires_at=now - timedelta(hours=1)),
                consent(withdrawn, "org-0001", withdrawn_at=now - timedelta(hours=1)),
                consent(wrong_purpose, "org-0001", purpose=Purpose.CASE_MANAGEMENT.value),
            ]
        )
    principal = _principal(ClientKind.CHARITY, Purpose.CHARITY_MATCHING, organisation_id="org-0001")
    households = _households(
        synced,
        adapters,
        reach=reach_of(principal),
        seen_by=view(ClientKind.CHARITY, Purpose.CHARITY_MATCHING),
    )
    ids = [mine, anyone, other, expired, withdrawn, wrong_purpose, none]
    assert set(await households.entries(ids)) == {mine, anyone}
    assert households.access.denied == {other, expired, withdrawn, wrong_purpose, none}
    assert await households.count(HouseholdFilter()) == 2


async def test_by_member_finds_households_in_reach_and_names_no_other(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    district = _busiest(population)
    inside = population.by_id[_in(population, district)[0]]
    outside = next(h for h in population.households if h.district is not district)
    households = _households(synced, adapters, reach=Reach(district=district))
    numbers = [m.id_number for m in inside.members]
    found = await households.by_member([*numbers, outside.members[0].id_number, UNKNOWN_PERSON])
    assert found == dict.fromkeys(numbers, inside.id)
    assert households.access.lookups_denied == 1
    assert households.access.denied == set()  # a lookup names no household it refuses
    assert households.access.missing == set()


async def test_page_and_count_list_the_households_in_reach_that_match_a_filter(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    district = _busiest(population)
    expected = _in(population, district)
    households = _households(synced, adapters)
    where = HouseholdFilter(district=district)
    assert await households.count(where) == len(expected)
    listed: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = await households.page(where, first=3, after=after)
        pages += 1
        listed += [e.household_id for e in page.entries]
        assert all(e.district is district for e in page.entries)
        if not page.has_next_page:
            break
        after = page.entries[-1].household_id
    assert listed == expected
    assert pages == -(-len(expected) // 3)
    assert set(households.access.granted) == set(expected)


async def test_a_category_filter_counts_active_enrollments_only(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    households = _households(synced, adapters)
    ever = {
        c: {h.id for h in population.households for e in h.enrollments if e.category is c}
        for c in AssistanceCategory
    }
    inactive_only = 0
    for category in AssistanceCategory:
        expected = sorted(
            h.id
            for h in population.households
            if any(
                e.category is category and e.status is EnrollmentStatus.ACTIVE
                for e in h.enrollments
            )
        )
        where = HouseholdFilter(category=category)
        assert await households.count(where) == len(expected), category
        page = await households.page(where, first=100, after=None)
        assert [e.household_id for e in page.entries] == expected[:100], category
        inactive_only += len(ever[category]) - len(expected)
    assert inactive_only > 0, "expected ended or suspended enrollments to leave out"


async def test_a_filter_outside_the_reach_finds_nothing(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    district = _busiest(population)
    elsewhere = next(h.district for h in population.households if h.district is not district)
    households = _households(synced, adapters, reach=Reach(district=district))
    assert await households.count(HouseholdFilter(district=elsewhere)) == 0
    page = await households.page(HouseholdFilter(district=elsewhere), first=10, after=None)
    assert page.entries == ()
    assert await households.count(HouseholdFilter()) == len(_in(population, district))


# --- the departments --------------------------------------------------------------------


async def test_parts_of_twenty_households_cost_one_call_per_department_and_then_none(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    ids = _first(population, 20)
    households = _households(synced, adapters)
    before = calls(transport)
    found = {s: await households.parts(s, ids) for s in Source}
    assert _since(transport, before) == dict.fromkeys(Source, 1)
    for source in Source:
        assert list(found[source]) == ids
        for household_id, outcome in found[source].items():
            assert isinstance(outcome, Part)
            assert outcome.source is source
            assert outcome.freshness is Freshness.LIVE
            members = tuple(m.id_number for m in population.by_id[household_id].members)
            assert outcome.keys == ((household_id,) if source is Source.CIVIL_AFFAIRS else members)
    civil = found[Source.CIVIL_AFFAIRS][ids[0]]
    assert isinstance(civil, Part)
    (household,) = civil.records[ids[0]]
    assert household.id == ids[0]

    again = calls(transport)
    assert {s: await households.parts(s, ids) for s in Source} == found
    assert await households.parts(Source.HOUSING, ids[:5]) == {
        i: found[Source.HOUSING][i] for i in ids[:5]
    }
    assert _since(transport, again) == dict.fromkeys(Source, 0)


async def test_parts_asked_for_at_once_still_cost_one_call_per_department(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    ids = _first(population, 20)
    households = _households(synced, adapters)
    before = calls(transport)
    found = await gather_parts(households, ids)
    assert set(found) == set(Source)
    assert all(list(found[s]) == ids for s in Source)
    assert all(isinstance(o, Part) for s in Source for o in found[s].values())
    assert _since(transport, before) == dict.fromkeys(Source, 1)


async def test_parts_are_never_asked_for_households_out_of_reach(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    district = _busiest(population)
    outside = [h.id for h in population.households if h.district is not district][:5]
    households = _households(synced, adapters, reach=Reach(district=district))
    before = calls(transport)
    found = await gather_parts(households, [*outside, UNKNOWN_HOUSEHOLD])
    assert found == {s: {} for s in Source}
    assert _since(transport, before) == dict.fromkeys(Source, 0)


@pytest.mark.parametrize(
    "hurt",
    [pytest.param({"down": True}, id="down"), pytest.param({"status": 503}, id="503")],
)
async def test_a_department_that_fails_gives_its_error_while_the_others_answer(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
    hurt: dict[str, object],
) -> None:
    ids = _first(population, 5)
    faults(transport, Source.EDUCATION).update(hurt)
    households = _households(synced, adapters)
    found = await households.parts(Source.EDUCATION, ids)
    assert list(found) == ids
    for outcome in found.values():
        assert isinstance(outcome, SourceError)
        assert outcome.code == "SOURCE_UNAVAILABLE"
        assert outcome.source is Source.EDUCATION
    shown = await _provenance(households, ids[0])
    assert [p.source for p in shown] == list(Source)
    by_source = {p.source: p for p in shown}
    assert by_source[Source.EDUCATION] == Provenance(
        Source.EDUCATION, State.UNAVAILABLE, error_code="SOURCE_UNAVAILABLE"
    )
    for source in Source:
        if source is not Source.EDUCATION:
            assert by_source[source].state is State.OK, source
            assert by_source[source].error_code is None
    judged = await households.judged(Source.EDUCATION, ids)
    assert all(isinstance(o, SourceError) for o in judged.values())


async def test_an_earlier_copy_stands_in_for_a_department_that_fails_and_says_so(
    synced: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    transport: InProcessTransport,
    population: Population,
) -> None:
    keeping = Adapters(
        http,
        {
            s: AdapterConfig(base_url=sandbox_url(s), policy=replace(FAST, stale_ttl=3600))
            for s in Source
        },
    )
    ids = _first(population, 5)
    fresh = await _households(synced, keeping).parts(Source.HOUSING, ids)
    faults(transport, Source.HOUSING).update({"down": True})
    found = await _households(synced, keeping).parts(Source.HOUSING, ids)
    for household_id in ids:
        earlier, stale = fresh[household_id], found[household_id]
        assert isinstance(earlier, Part)
        assert isinstance(stale, Part)
        assert stale.freshness is Freshness.STALE
        assert stale.records == earlier.records
        assert stale.as_of == earlier.as_of
        assert stale.failure is not None
        assert stale.failure.code == "SOURCE_UNAVAILABLE"
        shown = provenance(Source.HOUSING, stale)
        assert (shown.state, shown.as_of) == (State.STALE, earlier.as_of)


async def test_provenance_says_when_and_how_fast_each_department_answered(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    started = datetime.now(UTC)
    household_id = _first(population, 1)[0]
    shown = await _provenance(_households(synced, adapters), household_id)
    assert [p.source for p in shown] == list(Source)
    for p in shown:
        assert p.state is State.OK
        assert p.as_of is not None
        assert p.as_of >= started - timedelta(seconds=1)
        assert p.latency_ms is not None
        assert p.latency_ms >= 0
        assert p.error_code is None


async def test_a_section_the_view_does_not_show_is_withheld_and_never_fetched(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    no_housing = View(
        ClientKind.AGENCY,
        Purpose.ELIGIBILITY_REVIEW,
        levels={**REVIEW.levels, Source.HOUSING: Level.NONE},
        values=REVIEW.values,
    )
    ids = _first(population, 10)
    households = _households(synced, adapters, seen_by=no_housing)
    before = calls(transport)
    assert await households.parts(Source.HOUSING, ids) == dict.fromkeys(ids, WITHHELD)
    assert await households.judged(Source.HOUSING, ids) == dict.fromkeys(ids, WITHHELD)
    shown = {p.source: p for p in await _provenance(households, ids[0])}
    assert shown[Source.HOUSING] == Provenance(Source.HOUSING, State.WITHHELD)
    assert all(shown[s].state is State.OK for s in Source if s is not Source.HOUSING)
    spent = _since(transport, before)
    assert spent[Source.HOUSING] == 0
    assert spent[Source.EDUCATION] == 1


async def test_a_view_of_nothing_fetches_nothing_even_for_households_in_reach(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    ids = _first(population, 10)
    households = _households(synced, adapters, seen_by=view(ClientKind.AUDITOR, Purpose.AUDIT))
    before = calls(transport)
    found = await gather_parts(households, ids)
    assert found == {s: dict.fromkeys(ids, WITHHELD) for s in Source}
    shown = await _provenance(households, ids[0])
    assert [p.state for p in shown] == [State.WITHHELD] * len(Source)
    assert _since(transport, before) == dict.fromkeys(Source, 0)


def test_provenance_tells_live_stale_unavailable_and_withheld_apart() -> None:
    as_of = datetime(2026, 10, 31, 4, 0, tzinfo=UTC)
    down = SourceUnavailable(Source.HOUSING, "cannot reach the service")
    live: Part[Any] = Part(Source.HOUSING, ("A",), {"A": []}, Freshness.LIVE, as_of, 12.345)
    stale: Part[Any] = Part(
        Source.HOUSING, ("A",), {"A": []}, Freshness.STALE, as_of, 3.0, failure=down
    )
    assert provenance(Source.HOUSING, live) == Provenance(
        Source.HOUSING, State.OK, as_of=as_of, latency_ms=12.3
    )
    assert provenance(Source.HOUSING, stale) == Provenance(
        Source.HOUSING, State.STALE, as_of=as_of, latency_ms=3.0
    )
    assert provenance(Source.HOUSING, down) == Provenance(
        Source.HOUSING, State.UNAVAILABLE, error_code="SOURCE_UNAVAILABLE"
    )
    assert provenance(Source.HOUSING, WITHHELD) == Provenance(Source.HOUSING, State.WITHHELD)


# --- the facts --------------------------------------------------------------------------


@pytest.mark.parametrize("source", DEPARTMENTS, ids=lambda s: s.value)
async def test_judged_gives_each_household_its_facts_beside_the_part_they_come_from(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    population: Population,
    source: Source,
) -> None:
    ids = _first(population, 20)
    households = _households(synced, adapters)
    judged = await households.judged(source, ids)
    parts = await households.parts(source, ids)
    assert list(judged) == ids
    for household_id, outcome in judged.items():
        assert isinstance(outcome, Judged)
        assert outcome.part is parts[household_id]
        assert isinstance(outcome.facts, FACTS[source])
        assert outcome.facts.rules_version == RULES.version


async def test_judged_facts_are_the_plain_functions_of_the_parts(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    ids = _first(population, 20)
    households = _households(synced, adapters)
    plain: dict[Source, Callable[[Part[Any]], object]] = {
        Source.HEALTH_INSURANCE: lambda p: facts.medical(p, RULES, households.today),
        Source.EDUCATION: lambda p: facts.education(p, RULES),
        Source.HOUSING: lambda p: facts.housing(p, RULES),
        Source.EMERGENCY_MANAGEMENT: lambda p: facts.disaster(p, RULES),
        Source.CHARITY: lambda p: facts.charity(p, RULES),
    }
    for source, judge in plain.items():
        for outcome in (await households.judged(source, ids)).values():
            assert isinstance(outcome, Judged)
            assert outcome.facts == judge(outcome.part), source


async def test_zero_employment_is_judged_with_civil_affairs_and_without_it_when_it_is_down(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    ids = sorted(h.id for h in population.households)
    households = _households(synced, adapters)
    judged = await households.judged(Source.HUMAN_RESOURCES, ids)
    with_civil: dict[str, bool] = {}
    for household_id, outcome in judged.items():
        assert isinstance(outcome, Judged)
        household = population.by_id[household_id]
        expected = _zero_employment(household, outcome.part, households.today)
        assert outcome.facts.zero_employment is expected, household_id
        with_civil[household_id] = outcome.facts.zero_employment

    faults(transport, Source.CIVIL_AFFAIRS).update({"down": True})
    blind = _households(synced, adapters)
    for outcome in (await blind.judged(Source.HUMAN_RESOURCES, ids)).values():
        # Without civil affairs, human resources' records alone decide.
        assert isinstance(outcome, Judged)
        assert outcome.facts == facts.employment(outcome.part, None, RULES, blind.today)
    assert any(with_civil.values())


async def test_no_facts_come_from_civil_affairs_alone(
    synced: async_sessionmaker[AsyncSession], adapters: Adapters, population: Population
) -> None:
    with pytest.raises(ValueError, match="alone"):
        await _households(synced, adapters).judged(Source.CIVIL_AFFAIRS, _first(population, 1))


# --- a job ------------------------------------------------------------------------------


async def district_report(
    households: Households, district: District, *, page_size: int = 25
) -> dict[str, dict[Source, object]]:
    """What a nightly job would do: every household of a district with each department's
    facts (or why they are missing), through ``hub.households`` alone."""
    report: dict[str, dict[Source, object]] = {}
    after: str | None = None
    while True:
        page = await households.page(
            HouseholdFilter(district=district), first=page_size, after=after
        )
        ids = [e.household_id for e in page.entries]
        for source in DEPARTMENTS:
            judged: dict[str, Any] = await households.judged(source, ids)
            for household_id, outcome in judged.items():
                found = outcome.facts if isinstance(outcome, Judged) else outcome
                report.setdefault(household_id, {})[source] = found
        if not page.has_next_page:
            return report
        after = ids[-1]


async def test_a_job_lists_a_district_s_households_with_their_facts_without_graphql(
    synced: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    transport: InProcessTransport,
    population: Population,
) -> None:
    district = _busiest(population)
    households = _households(synced, adapters, reach=Reach(district=district))
    before = calls(transport)
    report = await district_report(households, district, page_size=4)
    expected = _in(population, district)
    assert sorted(report) == expected
    for household_id in expected:
        found = report[household_id]
        assert set(found) == set(DEPARTMENTS)
        for source, value in found.items():
            assert isinstance(value, FACTS[source]), (household_id, source)
    pages = -(-len(expected) // 4)
    # One call per department per page; civil affairs too, which zero employment reads.
    assert _since(transport, before) == dict.fromkeys(Source, pages)
    zero = []
    for household_id in expected:
        employment = report[household_id][Source.HUMAN_RESOURCES]
        assert isinstance(employment, facts.EmploymentFacts)
        if employment.zero_employment:
            zero.append(household_id)
    hr = await households.parts(Source.HUMAN_RESOURCES, expected)
    assert zero == [
        h for h in expected if _zero_employment(population.by_id[h], _part(hr[h]), households.today)
    ]


def _part(outcome: Outcome) -> Part[Any]:
    assert isinstance(outcome, Part)
    return outcome


def test_the_job_needs_nothing_from_the_graphql_layer() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in imported if m == "schema" or m.startswith("schema.")]
    # Nor does anything it imports reach for the GraphQL layer.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hub.households.service, hub.households.facts, hub.index.sync; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('schema', 'strawberry', 'graphql')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert loaded.stdout.strip() == "[]"
