import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters import idnumber
from adapters.base import BadUpstreamData
from adapters.charity import (
    CharityAdapter,
    CharityAid,
    CharityAidKind,
    CharityOrganisationKind,
    CharityRecipient,
)
from adapters.http import SourceClient
from adapters.records import age_on
from adapters.sandbox.charity import create_app
from adapters.sandbox.population import AS_OF, Population, generate
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, Source
from schema.sections.charity import CharitySection

BASE_URL = "http://127.0.0.1:8107"
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


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the stand-in and keeps their bodies."""

    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return await self._inner.handle_async_request(request)


def _adapter(transport: httpx.AsyncBaseTransport) -> CharityAdapter:
    client = httpx.AsyncClient(transport=transport)
    return CharityAdapter(SourceClient(Source.CHARITY, client, base_url=BASE_URL))


def _answering(body) -> CharityAdapter:
    return _adapter(httpx.MockTransport(lambda request: httpx.Response(200, json=body)))


@pytest.fixture(scope="module")
def large() -> Population:
    return generate(7, 1500)


async def _everyone(population: Population) -> dict[str, list[CharityAid]]:
    adapter = _adapter(httpx.ASGITransport(app=create_app(population)))
    result = await adapter.fetch([m.id_number for m in population.members()])
    return {key: list(records) for key, records in result.items()}


async def test_the_wire_format_maps_to_shanghai_days_and_exact_yuan():
    result = await _answering({"aid": [HOUSEHOLD_AID, PERSONAL_AID]}).fetch([SPOUSE, CHILD])
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


async def test_household_aid_split_across_batches_is_listed_once_per_member():
    def answer(request: httpx.Request) -> httpx.Response:
        wanted = json.loads(request.content)["beneficiary_ids"]
        return httpx.Response(
            200, json={"aid": [HOUSEHOLD_AID] if (HEAD in wanted or SPOUSE in wanted) else []}
        )

    filler = [idnumber.make("310104", date(1980, 1, 1) + timedelta(days=i), 21) for i in range(499)]
    result = await _adapter(httpx.MockTransport(answer)).fetch([HEAD, *filler, SPOUSE])
    assert [a.id for a in result[HEAD]] == [a.id for a in result[SPOUSE]] == ["ca1"]


async def test_every_key_is_answered_and_unknown_persons_get_an_empty_list(population):
    everyone = await _everyone(population)
    aided = next(key for key, records in everyone.items() if records)
    unknown = idnumber.make("310101", date(1990, 1, 1), 11)
    result = await _adapter(httpx.ASGITransport(app=create_app(population))).fetch([aided, unknown])
    assert result == {aided: everyone[aided], unknown: []}


async def test_one_upstream_call_per_batch_of_at_most_500_persons(population):
    known = [m.id_number for m in population.members()]
    filler = [
        idnumber.make("310104", date(1980, 1, 1) + timedelta(days=i), 21)
        for i in range(1001 - len(known))
    ]
    transport = Recording(create_app(population))
    result = await _adapter(transport).fetch(known + filler + known[:5])
    assert [len(b["beneficiary_ids"]) for b in transport.bodies] == [500, 500, 1]
    assert len(result) == 1001


@pytest.mark.parametrize(
    "body",
    [
        {"unexpected": []},
        {"aid": [{**PERSONAL_AID, "kind_code": "zz"}]},
        {"aid": [{**PERSONAL_AID, "recipient_type": "family"}]},
        {"aid": [{**PERSONAL_AID, "granted_at": "2025-01-26"}]},
        {"aid": [{**PERSONAL_AID, "amount": 3000}]},
        {"aid": [{**PERSONAL_AID, "amount": "three thousand"}]},
        {"aid": [{**HOUSEHOLD_AID, "household_member_ids": HEAD}]},
    ],
    ids=["shape", "kind", "recipient", "date", "numeric-amount", "amount", "members"],
)
async def test_unreadable_answers_are_bad_upstream_data(body):
    with pytest.raises(BadUpstreamData) as caught:
        await _answering(body).fetch([CHILD])
    assert caught.value.source is Source.CHARITY
    assert CHILD not in str(caught.value)


async def test_a_body_that_is_not_json_is_bad_upstream_data():
    adapter = _adapter(httpx.MockTransport(lambda r: httpx.Response(200, content=b"[1, ")))
    with pytest.raises(BadUpstreamData):
        await adapter.fetch([CHILD])


async def test_the_stand_in_refuses_bad_requests_and_publishes_its_contract(population):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(population)), base_url=BASE_URL
    ) as client:
        too_many = await client.post("/charity/aid/lookup", json={"beneficiary_ids": [HEAD] * 501})
        wrong = await client.post("/charity/aid/lookup", json={"beneficiary_ids": [1, 2]})
        document = await client.get("/openapi.json")
    assert too_many.status_code == wrong.status_code == 400
    assert {"/charity/organisations", "/charity/projects", "/charity/aid/lookup"} <= set(
        document.json()["paths"]
    )


async def test_every_aid_names_a_listed_project_of_its_own_organisation(large):
    adapter = _adapter(httpx.ASGITransport(app=create_app(large)))
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
    adapter = _adapter(httpx.ASGITransport(app=create_app(large)))
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


def test_the_section_lists_household_aid_once_newest_first():
    household = CharityAid(
        "ca1",
        HEAD,
        CharityRecipient.HOUSEHOLD,
        (HEAD, SPOUSE),
        "scf",
        "上海市慈善基金会",
        "scf_ltx",
        "蓝天下的至爱",
        CharityAidKind.CASH,
        Decimal("800.00"),
        date(2025, 1, 20),
    )
    personal = CharityAid(
        "ca2",
        SPOUSE,
        CharityRecipient.PERSON,
        (),
        "scf",
        "上海市慈善基金会",
        "scf_axjh",
        "安心计划",
        CharityAidKind.MEDICAL,
        Decimal("5200.50"),
        date(2025, 6, 3),
    )
    section = CharitySection.from_records(
        [HEAD, SPOUSE], {HEAD: [household], SPOUSE: [household, personal]}
    )
    assert [(a.id, a.id_number) for a in section.aid] == [("ca2", SPOUSE), ("ca1", HEAD)]
    assert section.total_amount == Decimal("6000.50")
    assert section.last_given_on == date(2025, 6, 3)
    empty = CharitySection.from_records([HEAD], {})
    assert empty.aid == []
    assert empty.total_amount == 0
    assert empty.last_given_on is None
