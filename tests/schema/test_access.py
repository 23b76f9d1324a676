"""Who may ask: tokens, purposes, reach, consent and break-glass, through every query path.

A household out of reach must look exactly like one that does not exist.
"""

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from adapters import idnumber
from adapters.sandbox.population import Population
from adapters.vocabulary import District, Source
from hub import audit
from hub.auth import clients as registry
from hub.auth.principal import ClientKind, Purpose
from hub.db.models import Token
from tests.hubclient import GraphQL, announced, credentials

MISSING_HOUSEHOLD = "H3101019999999"
MISSING_PERSON = idnumber.make("310101", date(1970, 1, 1), 999)  # valid, held by nobody

PATHS = {
    "household": "query($id: ID!) { household(id: $id) { id street members { name } } }",
    "householdByMember": "query($n: String!) { householdByMember(idNumber: $n) { id } }",
    "person": "query($n: String!) { person(idNumber: $n) { name household { id } } }",
}
LIST = """query($district: District) { households(first: 100, filter: {district: $district}) {
  totalCount edges { node { id } } } }"""


async def _ask_all_paths(
    gql: GraphQL, household_id: str, id_number: str
) -> dict[str, dict[str, Any]]:
    return {
        "household": await gql(PATHS["household"], id=household_id),
        "householdByMember": await gql(PATHS["householdByMember"], n=id_number),
        "person": await gql(PATHS["person"], n=id_number),
    }


def _two_districts(population: Population) -> tuple[District, District]:
    (first, _), (second, _) = Counter(h.district for h in population.households).most_common(2)
    return first, second


async def test_a_caseworker_limited_to_a_district_sees_it_and_nothing_else(
    as_client, population: Population
):
    mine, other = _two_districts(population)
    gql = await as_client(ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine)
    inside = next(h for h in population.households if h.district is mine)
    outside = next(h for h in population.households if h.district is other)

    seen = await _ask_all_paths(gql, inside.id, inside.members[0].id_number)
    assert seen["household"]["data"]["household"]["id"] == inside.id
    assert seen["householdByMember"]["data"]["householdByMember"] == {"id": inside.id}
    assert seen["person"]["data"]["person"]["household"] == {"id": inside.id}

    hidden = await _ask_all_paths(gql, outside.id, outside.members[0].id_number)
    missing = await _ask_all_paths(gql, MISSING_HOUSEHOLD, MISSING_PERSON)
    assert hidden == missing
    assert all(r == {"data": {name: None}} for name, r in hidden.items())

    listed = (await gql(LIST))["data"]["households"]
    assert listed["totalCount"] == sum(1 for h in population.households if h.district is mine)
    assert {e["node"]["id"] for e in listed["edges"]} <= {
        h.id for h in population.households if h.district is mine
    }
    assert await gql(LIST, district=other.name) == {
        "data": {"households": {"totalCount": 0, "edges": []}}
    }


async def test_a_street_limit_narrows_further(as_client, population: Population):
    mine, _ = _two_districts(population)
    street = next(h.street for h in population.households if h.district is mine)
    gql = await as_client(
        ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine, street=street
    )
    listed = (await gql(LIST))["data"]["households"]
    expected = {h.id for h in population.households if h.street == street}
    assert {e["node"]["id"] for e in listed["edges"]} == expected


# Partners never reach /graphql; through the partner API a document registered for them
# reaches no household either (tests/partners/test_access.py).
@pytest.mark.parametrize("kind", [ClientKind.AUDITOR, ClientKind.OPERATOR])
async def test_auditors_and_operators_browse_no_households(
    as_client, population: Population, kind: ClientKind
):
    gql = await as_client(kind)
    household = population.households[3]
    assert await _ask_all_paths(gql, household.id, household.members[0].id_number) == (
        await _ask_all_paths(gql, MISSING_HOUSEHOLD, MISSING_PERSON)
    )
    assert (await gql(LIST))["data"]["households"] == {"totalCount": 0, "edges": []}


RECORD = """mutation($id: ID!, $org: String, $until: Date!) {
  recordConsent(input: {householdId: $id, organisationId: $org, expiresOn: $until}) {
    __typename ... on ConsentPayload { consent { id version live organisationId } }
    ... on ConsentError { code message } } }"""
WITHDRAW = """mutation($id: ID!, $version: Int) { withdrawConsent(id: $id, version: $version) {
  __typename ... on ConsentPayload { consent { live withdrawnAt } }
  ... on ConsentError { code } } }"""


async def _consent(
    gql: GraphQL, household_id: str, org: str | None, days: int = 30
) -> dict[str, Any]:
    until = (date.today() + timedelta(days=days)).isoformat()
    result = await gql(RECORD, id=household_id, org=org, until=until)
    consent: dict[str, Any] = result["data"]["recordConsent"]
    return consent


async def test_a_charity_sees_only_consented_households_until_consent_is_withdrawn(
    gql, as_client, population: Population
):
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    consented, other = population.households[5], population.households[6]
    before = await _ask_all_paths(charity, consented.id, consented.members[0].id_number)
    assert all(r["data"] in ({name: None}, None) for name, r in before.items())

    recorded = await _consent(gql, consented.id, "org-a")
    assert recorded["__typename"] == "ConsentPayload"
    assert recorded["consent"]["live"] is True

    seen = await _ask_all_paths(charity, consented.id, consented.members[0].id_number)
    assert seen["household"]["data"]["household"]["id"] == consented.id
    # A charity sees ID numbers masked, so it may not look anyone up by one, consent or not.
    assert seen["householdByMember"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert seen["person"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    listed = (await charity(LIST))["data"]["households"]
    assert [e["node"]["id"] for e in listed["edges"]] == [consented.id]
    assert listed["totalCount"] == 1

    unconsented = await _ask_all_paths(charity, other.id, other.members[0].id_number)
    assert unconsented == await _ask_all_paths(charity, MISSING_HOUSEHOLD, MISSING_PERSON)

    withdrawn = (await gql(WITHDRAW, id=recorded["consent"]["id"], version=1))["data"]
    assert withdrawn["withdrawConsent"]["consent"]["live"] is False
    after = await _ask_all_paths(charity, consented.id, consented.members[0].id_number)
    assert after == await _ask_all_paths(charity, MISSING_HOUSEHOLD, MISSING_PERSON)


async def test_a_consent_for_another_charity_or_another_purpose_does_not_open_the_door(
    gql, as_client, population: Population
):
    household = population.households[8]
    await _consent(gql, household.id, "org-b")
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    assert (await charity(PATHS["household"], id=household.id))["data"] == {"household": None}
    anyone = await _consent(gql, household.id, None)
    assert anyone["consent"]["organisationId"] is None
    result = await charity(PATHS["household"], id=household.id)
    assert result["data"]["household"]["id"] == household.id


async def test_consent_is_recorded_only_by_civil_affairs_caseworkers(
    as_client, population: Population
):
    household = population.households[9]
    health = await as_client(ClientKind.AGENCY, department=Source.HEALTH_INSURANCE)
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    for caller in (health, charity):
        assert (await _consent(caller, household.id, "org-a"))["code"] == "NOT_ALLOWED"


async def test_consent_errors_are_typed(gql, population: Population):
    assert (await _consent(gql, MISSING_HOUSEHOLD, None))["code"] == "HOUSEHOLD_NOT_FOUND"
    assert (await _consent(gql, population.households[2].id, None, days=-1))["code"] == (
        "INVALID_EXPIRY"
    )
    recorded = await _consent(gql, population.households[2].id, None)
    stale = await gql(WITHDRAW, id=recorded["consent"]["id"], version=7)
    assert stale["data"]["withdrawConsent"] == {
        "__typename": "ConsentError",
        "code": "VERSION_CONFLICT",
    }
    await gql(WITHDRAW, id=recorded["consent"]["id"])
    again = await gql(WITHDRAW, id=recorded["consent"]["id"])
    assert again["data"]["withdrawConsent"]["code"] == "ALREADY_WITHDRAWN"


async def test_without_a_valid_token_the_answer_is_401(hub_client, hub_sessions, population):
    query = {
        "query": PATHS["household"],
        "variables": {"id": population.households[0].id},
    }
    headers = await credentials(
        hub_sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
    )
    cases = {
        "no token": {"X-Purpose": "CASE_MANAGEMENT"},
        "not a bearer": {**headers, "Authorization": "Basic abc"},
        "unknown token": {**headers, "Authorization": "Bearer hub_not-a-token"},
    }
    for name, sent in cases.items():
        response = await hub_client.post("/graphql", json=query, headers=sent)
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("Bearer")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert "token" in error["message"] or "Authorization" in error["message"]
    assert (await hub_client.post("/graphql", json=query, headers=headers)).status_code == 200


async def test_a_revoked_or_expired_token_fails_on_the_next_request(
    hub_app, hub_client, hub_sessions, population: Population
):
    headers = await credentials(
        hub_sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
    )
    gql = GraphQL(hub_client, headers)
    household = population.households[0]
    assert (await gql(PATHS["household"], id=household.id))["data"]["household"]
    revocations = hub_app.state.resources.revocations
    before = revocations.epoch()
    for token, _client in await registry.list_tokens(hub_sessions):
        await registry.revoke_token(hub_sessions, token.id)
    await announced(revocations, before)
    for household_id in (household.id, MISSING_HOUSEHOLD):
        response = await hub_client.post(
            "/graphql",
            json={
                "query": PATHS["household"],
                "variables": {"id": household_id},
            },
            headers=headers,
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "the token has been revoked"

    expiring = await credentials(
        hub_sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
    )
    async with hub_sessions.begin() as session:
        for row in await session.scalars(select(Token)):
            if row.revoked_at is None:
                row.expires_at = row.created_at
    response = await hub_client.post("/graphql", json={"query": "{ __typename }"}, headers=expiring)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "the token has expired"


async def test_a_disabled_client_is_refused(hub_client, hub_sessions):
    headers = await credentials(hub_sessions, ClientKind.OPERATOR, Purpose.OPERATIONS)
    (client,) = [c for c in await registry.list_clients(hub_sessions) if c.kind == "OPERATOR"]
    await registry.set_enabled(hub_sessions, client.id, enabled=False)
    response = await hub_client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("purpose", "status", "code"),
    [
        (None, 400, "PURPOSE_REQUIRED"),
        ("SIGHTSEEING", 400, "UNKNOWN_PURPOSE"),
        ("CHARITY_MATCHING", 403, "PURPOSE_NOT_ALLOWED"),
    ],
)
async def test_a_missing_unknown_or_disallowed_purpose_is_refused(
    hub_client, caseworker, purpose, status, code
):
    headers = {k: v for k, v in caseworker.items() if k != "X-Purpose"}
    if purpose:
        headers["X-Purpose"] = purpose
    response = await hub_client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    assert "CASE_MANAGEMENT" in error["message"]  # it says what may be declared


async def test_break_glass_opens_a_household_outside_reach_and_flags_it(
    hub_client, hub_sessions, as_client, population: Population
):
    mine, other = _two_districts(population)
    outside = next(h for h in population.households if h.district is other)
    headers = await credentials(
        hub_sessions,
        ClientKind.AGENCY,
        Purpose.CASE_MANAGEMENT,
        department=Source.CIVIL_AFFAIRS,
        district=mine,
    )
    variables = {"id": outside.id}
    plain = await GraphQL(hub_client, headers)(PATHS["household"], **variables)
    assert plain == {"data": {"household": None}}

    justification = "Fire at the address, family moved to shelter; need medical needs now."
    glass = {**headers, "X-Break-Glass": justification}
    opened = await GraphQL(hub_client, glass)(PATHS["household"], **variables)
    assert opened["data"]["household"]["id"] == outside.id

    short = await hub_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={**headers, "X-Break-Glass": "urgent"}
    )
    assert short.status_code == 400
    assert short.json()["errors"][0]["extensions"]["code"] == "JUSTIFICATION_TOO_SHORT"

    flagged = await audit.break_glass_entries(hub_sessions, since=None, until=None)
    assert [(e.households, e.justification) for e in flagged] == [
        (f'["{outside.id}"]', justification)
    ]
    auditor = await as_client(ClientKind.AUDITOR)
    listed = await auditor("{ breakGlassAccesses { households justification breakGlass } }")
    assert listed["data"]["breakGlassAccesses"] == [
        {"households": [outside.id], "justification": justification, "breakGlass": True}
    ]


async def test_only_agencies_may_break_the_glass(hub_client, hub_sessions):
    headers = await credentials(
        hub_sessions, ClientKind.CHARITY, Purpose.CHARITY_MATCHING, organisation_id="org-a"
    )
    response = await hub_client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={**headers, "X-Break-Glass": "x" * 40},
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "BREAK_GLASS_NOT_ALLOWED"


async def test_every_access_granted_or_denied_is_in_the_audit_log(
    gql, as_client, hub_sessions, population: Population
):
    household, hidden = population.households[11], population.households[12]
    await gql(PATHS["household"], id=household.id)
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    await charity(PATHS["household"], id=hidden.id)
    auditor = await as_client(ClientKind.AUDITOR)
    query = """query($id: ID!) { disclosures(householdId: $id) { clientKind purpose sections
      outcome households } }"""
    granted = (await auditor(query, id=household.id))["data"]["disclosures"]
    assert granted[-1] == {
        "clientKind": "AGENCY",
        "purpose": "CASE_MANAGEMENT",
        "outcome": "GRANTED",
        "sections": ["household", "members"],
        "households": [household.id],
    }
    denied = (await auditor(query, id=hidden.id))["data"]["disclosures"]
    assert denied[-1]["outcome"] == "DENIED"
    assert denied[-1]["clientKind"] == "CHARITY"
    assert await audit.verify(hub_sessions) is None
    # The log holds household IDs and section names, never personal values.
    entries = await audit.disclosures(
        hub_sessions, household_id=household.id, since=None, until=None
    )
    for entry in entries:
        text = " ".join(str(v) for v in vars(entry).values())
        assert all(m.id_number not in text and m.name not in text for m in household.members)


async def test_auditors_alone_read_the_disclosure_log(gql, as_client, population):
    query = '{ disclosures(householdId: "H3101010000001") { outcome } }'
    for caller in (gql, await as_client(ClientKind.CHARITY, organisation_id="org-a")):
        result = await caller(query)
        assert result["data"] is None
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_no_household_data_leaves_when_its_audit_entry_cannot_be_written(
    hub_client, caseworker, monkeypatch, population: Population
):
    from hub.audit import chain

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(chain, "append_many", broken)
    household = population.households[0]
    response = await hub_client.post(
        "/graphql",
        json={"query": PATHS["household"], "variables": {"id": household.id}},
        headers=caseworker,
    )
    assert household.members[0].name not in response.text
    assert household.id not in response.text
    assert "audit store unavailable" not in response.text  # the cause goes to the log only
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "AUDIT_UNAVAILABLE"}
