"""Charity aid (慈善衔接) through GraphQL, on hand-built households: the needs a charity may
see (consented households only, masked and banded, no income), and aid recorded once per
idempotency key, shown in the household's charity section beside the department's own."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, func, select

from adapters import idnumber
from adapters.vocabulary import District, Source
from hub.auth import revocations
from hub.auth.policy import PersonalValue, mask
from hub.auth.principal import ClientKind, Purpose
from hub.db.coordination import RecordedCharityAid
from hub.households.service import SHANGHAI
from tests.conftest import faults
from tests.hubclient import GraphQL, announced, audit_entries, details
from tests.scenarios import given

T = TypeVar("T")

TODAY = datetime.now(SHANGHAI).date()
MISSING = "H3101159399999"


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


_n = itertools.count(301, 2)


def person(years: int) -> str:
    born = TODAY.replace(year=TODAY.year - years, day=min(TODAY.day, 28))
    return idnumber.make("310115", born, next(_n))


def hid(number: int) -> str:
    return f"H31011593{number:05d}"


HEAD, CHILD, ELDER = person(41), person(10), person(72)
SICK, ALONE = person(50), person(60)
DISASTER_A, DISASTER_B, DISASTER_C = person(45), person(43), person(15)
OTHER = person(38)
INCOME = "2345.67"  # a figure no charity may see, banded or not
SCENARIO = f"""households:
  - id: {hid(1)}
    street: 花木街道
    assessed_monthly_income: {INCOME}
    members:
      - {{id_number: "{HEAD}", name: 张秀英}}
      - {{id_number: "{CHILD}", name: 张小明, relation: CHILD, schooling: PRIMARY}}
      - {{id_number: "{ELDER}", name: 张根, relation: PARENT, disability_grade: 1}}
    enrollments:
      - category: MINIMUM_LIVING
    health_insurance:
      - id_number: "{HEAD}"
        claims:
          - {{settled_on: {ago(60)}, kind: INPATIENT, total_cost: 42800, reimbursed: 29960,
              serious_illness: true}}
    education:
      - id_number: "{CHILD}"
        difficulty: DIFFICULT
        aid:
          - {{kind: LIVING_SUBSIDY, amount: 1500}}
    charity:
      - {{amount: 800, given_on: {ago(100)}}}
  - id: {hid(2)}
    street: 花木街道
    members:
      - {{id_number: "{DISASTER_A}", name: 李一}}
      - {{id_number: "{DISASTER_B}", name: 王二, relation: SPOUSE}}
      - {{id_number: "{DISASTER_C}", name: 李小三, relation: CHILD}}
    housing:
      - {{tenure: PRIVATE_RENTAL, floor_area: 30}}
    emergency_management:
      - event: {{type: FLOOD, occurred_on: {ago(20)}}}
        damage_level: SEVERE
        relief:
          - {{stage: EMERGENCY, amount: 3000}}
  - id: {hid(3)}
    street: 花木街道
    members:
      - {{id_number: "{SICK}", name: 赵病}}
    health_insurance:
      - id_number: "{SICK}"
        claims:
          - {{settled_on: {ago(30)}, kind: INPATIENT, total_cost: 90000, reimbursed: 30000,
              serious_illness: true}}
  - id: {hid(4)}
    street: 花木街道
    members:
      - {{id_number: "{OTHER}", name: 钱四}}
  - id: {hid(5)}
    street: 花木街道
    members:
      - {{id_number: "{ALONE}", name: 孙五}}
"""
# Household 1 and 5 consented to org-a, 2 to any charity, 4 to org-b; 3 to none.
CONSENTS = {1: "org-a", 2: None, 4: "org-b", 5: "org-a"}
IN_REACH = [hid(1), hid(2), hid(5)]

NEEDS = """query($first: Int!, $after: String) { charityNeeds(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
  edges { cursor node { householdId district districtName street categories memberCount
    sources { source state }
    needs { __typename ... on Need { kind department summary amount rulesVersion }
      ... on MedicalBillsNeed { seriousIllness windowMonths }
      ... on SchoolCostsNeed { students difficulty }
      ... on DisasterNeed { disasterType occurredOn damageLevel }
      ... on DisabilityNeed { members } } } } } }"""
CONSENT = """mutation($id: ID!, $org: String, $until: Date!) {
  recordConsent(input: {householdId: $id, organisationId: $org, expiresOn: $until}) {
  __typename } }"""
RECORD = """mutation($input: RecordCharityAidInput!) { recordCharityAid(input: $input) {
  __typename ... on CharityAidError { code message }
  ... on CharityAidPayload { householdId idempotencyKey recordedAt replayed
    aid { id idNumber recipient organisationId organisationName projectId projectName kind
          amount givenOn provenance } } } }"""
SECTION = """query($id: ID!) { household(id: $id) { charity {
  totalAmount lastGivenOn aid { id idNumber organisationName projectName kind amount givenOn
  provenance } } } }"""


@pytest.fixture
async def world(hub_app, transport, gql) -> None:
    await given(hub_app, transport, SCENARIO)
    until = (TODAY + timedelta(days=30)).isoformat()
    for number, organisation in CONSENTS.items():
        done = await gql(CONSENT, id=hid(number), org=organisation, until=until)
        assert done["data"]["recordConsent"]["__typename"] == "ConsentPayload"


@pytest.fixture
async def charity(world, as_client) -> GraphQL:
    made: GraphQL = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    return made


def _nodes(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["node"]["householdId"]: e["node"] for e in result["data"]["charityNeeds"]["edges"]}


def _aid(household_id: str = hid(1), key: str = "grant-0001", **changes: Any) -> dict[str, Any]:
    values = {
        "householdId": household_id,
        "idempotencyKey": key,
        "kind": "EDUCATION",
        "amount": "1200.00",
        "givenOn": ago(2),
        "projectName": "慈善助学",
    }
    return values | changes


async def test_a_charity_sees_the_needs_of_consented_households_only(charity, as_client):
    result = await charity(NEEDS, first=50)
    assert "errors" not in result, result
    nodes = _nodes(result)
    assert list(nodes) == IN_REACH
    assert result["data"]["charityNeeds"]["totalCount"] == 3
    first, second, plain = (nodes[h] for h in IN_REACH)
    assert (first["district"], first["districtName"], first["street"]) == (
        "PUDONG",
        "浦东新区",
        "花木街道",
    )
    assert (first["memberCount"], first["categories"]) == (3, ["MINIMUM_LIVING"])
    assert [(n["kind"], n["department"], n["amount"]) for n in first["needs"]] == [
        ("MEDICAL_BILLS", "HEALTH_INSURANCE", "10000-15000"),  # 12,840 paid themselves
        ("SCHOOL_COSTS", "EDUCATION", "1500-2000"),  # 1,500 education aid received
        ("DISABILITY", "CIVIL_AFFAIRS", None),
    ]
    medical, school, disability = first["needs"]
    assert (medical["__typename"], medical["seriousIllness"]) == ("MedicalBillsNeed", True)
    assert (school["students"], school["difficulty"]) == (1, "DIFFICULT")
    assert disability["members"] == 1
    assert [(n["kind"], n["amount"]) for n in second["needs"]] == [
        ("DISASTER", "3000-3500"),
        ("HOUSING", None),
    ]
    assert second["needs"][0]["damageLevel"] == "SEVERE"
    assert second["needs"][0]["occurredOn"] == ago(20)
    assert plain["needs"] == []
    assert {s["state"] for s in first["sources"]} == {"OK"}
    # Nobody's ID number, name or income, in any form.
    text = json.dumps(result, ensure_ascii=False)
    for secret in (HEAD, CHILD, ELDER, "张秀英", "张", INCOME, "2345", "2000-2500"):
        assert secret not in text


async def test_agencies_see_the_same_needs_with_exact_amounts(charity, as_client):
    street = await as_client(
        ClientKind.AGENCY,
        Purpose.ELIGIBILITY_REVIEW,
        department=Source.CIVIL_AFFAIRS,
        district=District.PUDONG,
        street="花木街道",
    )
    exact = _nodes(await street(NEEDS, first=100))
    banded = _nodes(await charity(NEEDS, first=50))
    # The agency's reach is its street: every scenario household, consented or not.
    assert {hid(n) for n in range(1, 6)} <= set(exact)
    amounts = [n["amount"] for n in exact[hid(1)]["needs"]]
    assert amounts == ["12840.00", "1500.00", None]
    assert [n["amount"] for n in banded[hid(1)]["needs"]] == [
        mask(PersonalValue.AMOUNT, Decimal(a)) if a is not None else None for a in amounts
    ]
    assert exact[hid(3)]["needs"][0]["kind"] == "MEDICAL_BILLS"
    # Reaching out, amounts are banded for agencies too.
    outreach = await as_client(
        ClientKind.AGENCY,
        Purpose.PROACTIVE_OUTREACH,
        department=Source.CIVIL_AFFAIRS,
        district=District.PUDONG,
        street="花木街道",
    )
    reached = _nodes(await outreach(NEEDS, first=100))
    assert reached[hid(1)]["needs"][0]["amount"] == "10000-15000"


async def test_the_needs_page_in_household_id_order(charity, as_client):
    seen, after, pages = [], None, 0
    while True:
        page = (await charity(NEEDS, first=1, after=after))["data"]["charityNeeds"]
        pages += 1
        seen += [e["node"]["householdId"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (seen, pages) == (IN_REACH, 3)
    # A cursor is good only for the client it was given to.
    other = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    refused = await other(NEEDS, first=1, after=after)
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    too_many = await charity(NEEDS, first=101)
    assert too_many["errors"][0]["extensions"]["argument"] == "first"


async def test_one_call_per_department_for_a_page(charity, transport):
    for app in transport.apps.values():
        app.calls = 0
    result = await charity(NEEDS, first=50)
    assert "errors" not in result
    called = {address: app.calls for address, app in transport.apps.items() if app.calls}
    # Civil affairs, health insurance, education, housing, emergency management; not charity
    # or human resources, which no need is derived from.
    assert sorted(called.values()) == [1] * 5


async def test_a_department_that_is_down_leaves_its_needs_out_and_says_so(charity, transport):
    faults(transport, Source.EDUCATION).update({"down": True})
    result = await charity(NEEDS, first=50)
    first = _nodes(result)[hid(1)]
    assert [n["kind"] for n in first["needs"]] == ["MEDICAL_BILLS", "DISABILITY"]
    states = {s["source"]: s["state"] for s in first["sources"]}
    assert states["EDUCATION"] == "UNAVAILABLE"
    errors = [e for e in result["errors"] if e["extensions"]["code"] == "SOURCE_UNAVAILABLE"]
    assert {e["extensions"]["source"] for e in errors} == {"EDUCATION"}
    assert len(errors) == 3  # one beside each household's needs
    assert errors[0]["path"][-1] == "needs"


async def _rows(hub_sessions) -> int:
    async with hub_sessions() as session:
        count = await session.scalar(select(func.count()).select_from(RecordedCharityAid))
    return count or 0


async def test_aid_is_recorded_once_under_five_concurrent_retries(charity, hub_sessions):
    answers = await asyncio.gather(*(charity(RECORD, input=_aid()) for _ in range(5)))
    payloads = [a["data"]["recordCharityAid"] for a in answers]
    assert {p["__typename"] for p in payloads} == {"CharityAidPayload"}
    assert len({p["aid"]["id"] for p in payloads}) == 1
    assert sorted(p["replayed"] for p in payloads) == [False, True, True, True, True]
    assert await _rows(hub_sessions) == 1
    recorded = payloads[0]["aid"]
    assert recorded["provenance"] == "HUB"
    assert recorded["idNumber"] is None
    assert (recorded["organisationId"], recorded["amount"]) == ("org-a", "1200.00")
    # The household's charity section shows it once, beside the department's own record.
    section = (await charity(SECTION, id=hid(1)))["data"]["household"]["charity"]
    assert [(a["provenance"], a["amount"]) for a in section["aid"]] == [
        ("HUB", "1200.00"),
        ("CHARITY_DEPARTMENT", "800.00"),
    ]
    assert section["totalAmount"] == "2000.00"
    assert section["lastGivenOn"] == ago(2)
    department = section["aid"][1]
    assert department["idNumber"] == idnumber.mask(HEAD)  # masked for a charity
    # A later retry still answers the same record, and says so.
    again = (await charity(RECORD, input=_aid()))["data"]["recordCharityAid"]
    assert (again["aid"]["id"], again["replayed"]) == (recorded["id"], True)


async def _aid_reads(hub_app: Any, ask: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """What ``ask`` answered, and how many queries it made for recorded aid's rows."""
    statements: list[str] = []
    engine = hub_app.state.resources.engine.sync_engine

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = await ask()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return answer, len([s for s in statements if s.lstrip().startswith("SELECT charity_aid.")])


PAGE_OF_AID = "{ households(first: 10) { edges { node { id charity { aid { provenance } } } } } }"


async def test_the_section_reads_recorded_aid_once_for_a_page(charity, hub_app):
    for n in (1, 2):
        await charity(RECORD, input=_aid(hid(n), key=f"k{n}"))
    listed, reads = await _aid_reads(hub_app, lambda: charity(PAGE_OF_AID))
    nodes = {e["node"]["id"]: e["node"] for e in listed["data"]["households"]["edges"]}
    assert [a["provenance"] for a in nodes[hid(2)]["charity"]["aid"]] == ["HUB"]
    assert reads == 1


async def test_households_without_recorded_aid_cost_no_query_for_it(charity, hub_app):
    # The index read says which households have aid recorded through the hub.
    listed, reads = await _aid_reads(hub_app, lambda: charity(PAGE_OF_AID))
    nodes = [e["node"] for e in listed["data"]["households"]["edges"]]
    assert nodes
    assert all(a["provenance"] != "HUB" for n in nodes if n["charity"] for a in n["charity"]["aid"])
    assert reads == 0


async def test_the_same_key_with_other_content_is_refused(charity, hub_sessions):
    await charity(RECORD, input=_aid())
    refused = (await charity(RECORD, input=_aid(amount="1300")))["data"]["recordCharityAid"]
    assert refused["__typename"] == "CharityAidError"
    assert refused["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await _rows(hub_sessions) == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"amount": "0"}, "INVALID_AMOUNT"), ({"givenOn": ago(-1)}, "INVALID_DATE")],
)
async def test_invalid_aid_is_refused_with_its_code(charity, hub_sessions, changes, code):
    refused = (await charity(RECORD, input=_aid(**changes)))["data"]["recordCharityAid"]
    assert refused["code"] == code
    assert await _rows(hub_sessions) == 0


@pytest.mark.parametrize("hidden", [hid(3), hid(4)], ids=["no consent", "another charity's"])
async def test_out_of_reach_answers_exactly_as_a_nonexistent_household(
    charity, hub_sessions, hidden
):
    before = len(await audit_entries(hub_sessions))
    out = await charity(RECORD, input=_aid(hidden))
    missing = await charity(RECORD, input=_aid(MISSING))
    assert out == missing
    assert out["data"]["recordCharityAid"]["code"] == "HOUSEHOLD_NOT_FOUND"
    assert hidden not in json.dumps(out)
    assert await _rows(hub_sessions) == 0
    entries = (await audit_entries(hub_sessions))[before:]
    assert [(e.outcome, e.households) for e in entries] == [
        ("DENIED", f'["{hidden}"]'),
        ("NOT_FOUND", "[]"),
    ]


async def test_an_agency_cannot_record_charity_aid(world, gql, hub_sessions):
    refused = (await gql(RECORD, input=_aid()))["data"]["recordCharityAid"]
    assert refused["code"] == "NOT_ALLOWED"
    assert await _rows(hub_sessions) == 0
    (entry,) = (await audit_entries(hub_sessions))[-1:]
    assert (entry.operation, entry.outcome) == ("mutation", "REFUSED")
    assert details(entry) == {"refused": "NOT_ALLOWED"}


async def test_reading_needs_and_recording_aid_are_audited(charity, hub_sessions):
    before = len(await audit_entries(hub_sessions))
    await charity("query Needs { charityNeeds(first: 50) { edges { node { householdId } } } }")
    await charity("query Count { charityNeeds(first: 1) { totalCount } }")
    await charity(RECORD.replace("mutation(", "mutation Give("), input=_aid())
    listed, counted, given_ = (await audit_entries(hub_sessions))[before:]
    assert (listed.operation, listed.outcome) == ("Needs", "GRANTED")
    assert json.loads(listed.households) == IN_REACH
    assert "charityNeeds" in json.loads(listed.sections)
    assert listed.client_kind == "CHARITY"
    assert listed.purpose == "CHARITY_MATCHING"
    assert details(listed) == {"filter": {}}
    # The count alone names no household: an aggregate access.
    assert (counted.operation, counted.households) == ("Count", "[]")
    assert details(counted) == {"filter": {}, "aggregate": True}
    assert (given_.operation, given_.outcome) == ("Give", "GRANTED")
    assert json.loads(given_.households) == [hid(1)]
    assert json.loads(given_.sections) == ["charity"]


async def test_a_charity_department_that_is_down_still_hides_the_section(charity, transport):
    await charity(RECORD, input=_aid())
    faults(transport, Source.CHARITY).update({"down": True})
    result = await charity(SECTION, id=hid(1))
    assert result["data"]["household"]["charity"] is None
    assert result["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert result["errors"][0]["extensions"]["source"] == "CHARITY"


async def test_a_caseworker_sees_aid_a_charity_has_just_recorded(charity, gql, hub_app):
    # The caseworker's worker keeps the household's index entry (hub.index.cache); the
    # recording announces a change of the index, and the next view asks again.
    def from_hub(result: dict[str, Any]) -> list[dict[str, Any]]:
        aid = result["data"]["household"]["charity"]["aid"]
        return [a for a in aid if a["provenance"] == "HUB"]

    assert from_hub(await gql(SECTION, id=hid(1))) == []
    changes = hub_app.state.resources.index_changes
    before = changes.epoch()
    recorded = (await charity(RECORD, input=_aid()))["data"]["recordCharityAid"]
    await announced(changes, before)
    assert [a["id"] for a in from_hub(await gql(SECTION, id=hid(1)))] == [recorded["aid"]["id"]]


async def test_aid_is_recorded_when_the_index_change_cannot_be_announced(
    charity, hub_sessions, monkeypatch, caplog
):
    # The aid has committed: telling the workers is best effort (their entries expire).
    async def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError("no way to tell the workers")

    monkeypatch.setattr(revocations, "announce", refused)
    with caplog.at_level("WARNING", logger="hub.index.cache"):
        done = (await charity(RECORD, input=_aid()))["data"]["recordCharityAid"]
    assert done["__typename"] == "CharityAidPayload"
    assert await _rows(hub_sessions) == 1
    assert "not announced" in caplog.text
