from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.charity import (
    CharityAdapter,
    CharityAid,
    CharityAidKind,
    CharityOrganisationKind,
    CharityRecipient,
)
from adapters.records import age_on
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, Source
from tests.adapters.conftest import assert_bad_upstream_data, holdings, mocked, serving

SOURCE = Source.CHARITY
HEAD, SPOUSE, CHILD = "310115197001010013", "310115197205050028", "310115200808080035"
# 2025-01-26 00:30 in Shanghai, still the 25th in UTC.
JUST_AFTER_MIDNIGHT = int(datetime.fromisoformat("2025-01-26T00:30:00+08:00").timestamp())
HOUSEHOLD_AID = {
    "aid_id": "ca1",
    "beneficiary_id_no": HEAD,
    "recipient_type": "household",
    "household_member_ids": [HEAD, SPOUSE, CHILD],
    "org_id": "scf",
    "org_name": "上海市慈善基金会",
    "project_id": "scf_ltx",
    "project_name": "蓝天下的至爱·帮困送温暖",
    "kind_code": "xj",
    "amount": "1000.50",
    "granted_at": JUST_AFTER_MIDNIGHT,
}
PERSONAL_AID = {
    **HOUSEHOLD_AID,
    "aid_id": "ca2",
    "beneficiary_id_no": CHILD,
    "recipient_type": "individual",
    "kind_code": "jy",
    "amount": "3000.00",
    "project_id": "scf_zx",
    "project_name": "慈善助学",
}
del PERSONAL_AID["household_member_ids"]


def _charity(population: Population) -> CharityAdapter:
    adapter = serving(SOURCE, population)
    assert isinstance(adapter, CharityAdapter)
    return adapter


async def _everyone(population: Population) -> dict[str, list[CharityAid]]:
    return await holdings(SOURCE, population)


async def test_the_wire_format_maps_to_shanghai_days_and_exact_yuan():
    body = {"aid": [HOUSEHOLD_AID, PERSONAL_AID]}
    result = await mocked(SOURCE, body).fetch([SPOUSE, CHILD])
    household = CharityAid(
        id="ca1",
        beneficiary_id_number=HEAD,
        recipient=CharityRecipient.HOUSEHOLD,
        household_member_ids=(HEAD, SPOUSE, CHILD),
        organisation_id="scf",
        organisation_name="上海市慈善基金会",
        project_id="scf_ltx",
        project_name="蓝天下的至爱·帮困送温暖",
        kind=CharityAidKind.CASH,
        amount=Decimal("1000.50"),
        given_on=date(2025, 1, 26),
    )
    assert result[SPOUSE] == [household]
    assert result[CHILD][0] == household
    personal = result[CHILD][1]
    assert (personal.recipient, personal.kind, personal.amount, personal.household_member_ids) == (
        CharityRecipient.PERSON,
        CharityAidKind.EDUCATION,
        Decimal(3000),
        (),
    )
    assert set(result) == {SPOUSE, CHILD}


@pytest.mark.parametrize(
    "body",
    [
        {"aid": [{**PERSONAL_AID, "kind_code": "zz"}]},
        {"aid": [{**PERSONAL_AID, "recipient_type": "family"}]},
        {"aid": [{**PERSONAL_AID, "granted_at": "2025-01-26"}]},
        {"aid": [{**PERSONAL_AID, "amount": 3000}]},
        {"aid": [{**PERSONAL_AID, "amount": "three thousand"}]},
        {"aid": [{**HOUSEHOLD_AID, "household_member_ids": HEAD}]},
    ],
    ids=["kind", "recipient", "date", "numeric-amount", "amount", "members"],
)
async def test_unreadable_answers_are_bad_upstream_data(body):
    await assert_bad_upstream_data(SOURCE, body, CHILD)


async def test_every_aid_names_a_listed_project_of_its_own_organisation(large):
    adapter = _charity(large)
    organisations = {o.id: o for o in await adapter.organisations()}
    projects = {p.id: p for p in await adapter.projects()}
    assert {"上海市慈善基金会", "上海市儿童基金会", "上海联劝公益基金会", "上海仁德基金会"} <= {
        o.name for o in organisations.values()
    }
    assert all(p.organisation_id in organisations for p in projects.values())
    for records in (await _everyone(large)).values():
        for aid in records:
            project = projects[aid.project_id]
            assert (project.organisation_id, project.name, project.kind) == (
                aid.organisation_id,
                aid.project_name,
                aid.kind,
            )
            assert organisations[aid.organisation_id].name == aid.organisation_name


async def test_aid_agrees_with_civil_affairs(large):
    adapter = _charity(large)
    organisations = {o.id: o for o in await adapter.organisations()}
    everyone = await _everyone(large)
    for household in large.households:
        ids = tuple(m.id_number for m in household.members)
        for member in household.members:
            for aid in everyone[member.id_number]:
                assert AS_OF - timedelta(days=730) <= aid.given_on <= AS_OF
                organisation = organisations[aid.organisation_id]
                if organisation.kind is not CharityOrganisationKind.FOUNDATION:
                    assert organisation.district is household.district
                if organisation.kind is CharityOrganisationKind.CHARITY_SUPERMARKET:
                    assert organisation.street == household.street
                if aid.recipient is CharityRecipient.HOUSEHOLD:
                    assert aid.beneficiary_id_number == household.head.id_number
                    assert aid.household_member_ids == ids
                    assert all(aid in everyone[i] for i in ids)
                    continue
                assert aid.beneficiary_id_number == member.id_number
                age = age_on(member.birth_date, aid.given_on)
                if aid.kind is CharityAidKind.EDUCATION:
                    assert 6 <= age <= 18
                if aid.kind is CharityAidKind.MEDICAL:
                    assert member.chronic_illness or member.disability_grade in (1, 2)
                if aid.kind is CharityAidKind.SERVICE:
                    assert age >= 60 or member.disability_grade is not None


async def test_about_a_fifth_of_households_are_aided_the_poorest_far_more(large):
    everyone = await _everyone(large)
    aided = {h.id for h in large.households if any(everyone[m.id_number] for m in h.members)}
    assert 0.15 <= len(aided) / len(large) <= 0.25
    poorest = {AssistanceCategory.EXTREME_HARDSHIP, AssistanceCategory.EXPENDITURE_POVERTY}

    def is_poorest(h) -> bool:
        return any(
            e.category in poorest and e.status is EnrollmentStatus.ACTIVE for e in h.enrollments
        )

    share = {
        flag: [h.id in aided for h in large.households if is_poorest(h) is flag]
        for flag in (True, False)
    }
    assert sum(share[True]) / len(share[True]) > 2 * sum(share[False]) / len(share[False])
    kinds = {a.kind for records in everyone.values() for a in records}
    assert kinds == set(CharityAidKind)
