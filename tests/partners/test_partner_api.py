"""The partner API of one hub (Shanghai), driven by a partner whose tokens the test writes:
what crossRegionStatus answers and how its answer is signed, and every refusal, audited."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from adapters import partner as partner_adapter
from adapters.sandbox.population import Population
from hub.audit import disclosures
from hub.db.models import Client
from hub.partners import documents, signature
from hub.signing import b64url, unb64url
from tests.hubclient import audit_entries, details
from tests.partners.fake import FakePartner, new_key

NOBODY = "11010519491231002X"  # a valid ID number no hub knows
STATUS = {
    "documentId": documents.document_id(partner_adapter.CROSS_REGION_STATUS),
}


def status_body(*id_numbers: str) -> dict[str, Any]:
    return {**STATUS, "variables": {"idNumbers": list(id_numbers)}}


async def published_keys(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys: dict[str, Any] = response.json()
    return keys


async def test_cross_region_status_answers_only_the_listed_fields_signed(
    hub_app: Starlette, partner: FakePartner, population: Population, hub_client: httpx.AsyncClient
):
    assisted = next(
        h for h in population.households if any(e.status.value == "ACTIVE" for e in h.enrollments)
    )
    asked = [assisted.members[0].id_number, "11010519491231002X"]

    response = await partner.post(status_body(*asked))

    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    answers = body["data"]["crossRegionStatus"]
    assert [a["idNumber"] for a in answers] == asked
    assert all(set(a) == {"idNumber", "receivesAssistance", "categories"} for a in answers)
    active = sorted(
        (e.category.value, e.since.isoformat())
        for e in assisted.enrollments
        if e.status.value == "ACTIVE"
    )
    assert answers[0]["receivesAssistance"] is True
    assert sorted((c["category"], c["since"]) for c in answers[0]["categories"]) == active
    assert answers[1] == {"idNumber": asked[1], "receivesAssistance": False, "categories": []}
    # The answer is signed over its exact bytes, by a key the hub publishes.
    keys = await published_keys(hub_client)
    kid = signature.verify(response.content, response.headers.get("Hub-Signature"), keys)
    assert kid in {k["kid"] for k in keys["keys"]}
    with pytest.raises(signature.SignatureInvalid):
        signature.verify(
            response.content.replace(b"true", b"false"), response.headers["Hub-Signature"], keys
        )


async def test_each_person_asked_about_is_audited_with_the_partner_and_purpose(
    hub_app: Starlette, partner: FakePartner, population: Population
):
    household = population.households[0]
    asked = household.members[0].id_number
    keys = hub_app.state.resources.keys

    assert (await partner.post(status_body(asked, "11010519491231002X"))).status_code == 200

    (entry,) = await audit_entries(hub_app.state.resources.sessions)
    assert entry.client_id == partner.client_id
    assert entry.client_kind == "PARTNER"
    assert entry.purpose == "CROSS_REGION_CHECK"
    assert details(entry)["lookups"] == [
        keys.lookup_hash(asked),
        keys.lookup_hash("11010519491231002X"),
    ]
    assert asked not in json.dumps(details(entry))
    # The household is told a partner asked about it (the disclosure log).
    (disclosed,) = await disclosures(hub_app.state.resources.sessions, household_id=household.id)
    assert disclosed.seq == entry.seq
    assert json.loads(disclosed.sections) == ["crossRegion"]


async def refused(
    hub_app: Starlette, response: httpx.Response, status: int, code: str
) -> dict[str, Any]:
    """The response is the refusal, signed like every answer, and the audit log has it."""
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    keys = hub_app.state.resources.signing
    assert signature.verify(
        response.content, response.headers.get("Hub-Signature"), (await keys.current()).jwks()
    )
    entries = await audit_entries(hub_app.state.resources.sessions)
    assert entries, "the refusal was not audited"
    last = entries[-1]
    assert last.outcome == "REFUSED"
    assert details(last)["refused"] == code
    return {"client_id": last.client_id, "households": json.loads(last.households)}


async def test_an_expired_token_is_refused_and_audited(hub_app: Starlette, partner: FakePartner):
    token = partner.token(issued_ago=200, lifetime=60)
    found = await refused(
        hub_app, await partner.post(status_body("11010519491231002X"), token), 401, "TOKEN_EXPIRED"
    )
    assert found == {"client_id": partner.client_id, "households": []}


async def test_a_token_for_another_hub_is_refused_and_audited(
    hub_app: Starlette, partner: FakePartner
):
    token = partner.token(aud="ZJ")
    found = await refused(
        hub_app, await partner.post(status_body("11010519491231002X"), token), 401, "WRONG_AUDIENCE"
    )
    assert found["client_id"] == partner.client_id


async def test_a_token_signed_with_an_unknown_key_is_refused_and_audited(
    hub_app: Starlette, partner: FakePartner
):
    token = partner.token(key=new_key("js-2"))
    await refused(
        hub_app, await partner.post(status_body("11010519491231002X"), token), 401, "UNKNOWN_KEY"
    )


async def test_a_token_whose_signature_does_not_verify_is_refused_and_audited(
    hub_app: Starlette, partner: FakePartner
):
    forged = partner.token(key=new_key("js-1"))  # the registered kid, another key
    await refused(
        hub_app, await partner.post(status_body("11010519491231002X"), forged), 401, "BAD_SIGNATURE"
    )
    # A token altered after signing, too: the same claims with a longer life.
    header, claims, sig = partner.token().split(".")
    changed = json.loads(unb64url(claims))
    changed["exp"] += 100
    altered = b64url(json.dumps(changed).encode())
    await refused(
        hub_app,
        await partner.post(status_body("11010519491231002X"), f"{header}.{altered}.{sig}"),
        401,
        "BAD_SIGNATURE",
    )


async def test_a_replayed_token_is_refused_and_audited(hub_app: Starlette, partner: FakePartner):
    token = partner.token()
    first = await partner.post(status_body("11010519491231002X"), token)
    assert first.status_code == 200

    await refused(
        hub_app, await partner.post(status_body("11010519491231002X"), token), 401, "TOKEN_REPLAYED"
    )


async def test_a_token_that_lives_too_long_is_refused(hub_app: Starlette, partner: FakePartner):
    token = partner.token(lifetime=3600)
    await refused(
        hub_app,
        await partner.post(status_body("11010519491231002X"), token),
        401,
        "TOKEN_TOO_LONG_LIVED",
    )


async def test_an_unknown_issuer_is_refused_and_audited_without_a_client(
    hub_app: Starlette, partner: FakePartner
):
    token = partner.token(iss="AH")
    found = await refused(
        hub_app,
        await partner.post(status_body("11010519491231002X"), token),
        401,
        "UNKNOWN_PARTNER",
    )
    assert found["client_id"] is None


async def test_an_unregistered_document_is_refused_and_audited(
    hub_app: Starlette, partner: FakePartner
):
    text = "query Mine { crossRegionStatus(idNumbers: []) { idNumber } }"
    body = {"documentId": documents.document_id(text), "variables": {}}
    found = await refused(hub_app, await partner.post(body), 403, "DOCUMENT_NOT_REGISTERED")
    assert found["client_id"] == partner.client_id


async def test_a_raw_query_is_refused_and_audited(hub_app: Starlette, partner: FakePartner):
    body = {"query": partner_adapter.CROSS_REGION_STATUS, "variables": {"idNumbers": []}}
    await refused(hub_app, await partner.post(body), 403, "RAW_QUERY_REFUSED")


async def test_a_registered_document_runs_also_in_the_persisted_query_shape(
    hub_app: Starlette, partner: FakePartner
):
    text = (
        "query Few($ids: [String!]!) { crossRegionStatus(idNumbers: $ids) { receivesAssistance } }"
    )
    sessions = hub_app.state.resources.sessions
    registered = await documents.add(sessions, text, partner="JS")

    response = await partner.post(
        {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": registered[7:]}},
            "variables": {"ids": ["11010519491231002X"]},
        }
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"crossRegionStatus": [{"receivesAssistance": False}]}}


async def test_more_than_a_hundred_id_numbers_are_refused(hub_app: Starlette, partner: FakePartner):
    many = ["11010519491231002X"] * 101
    response = await partner.post(status_body(*many))
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_LOOKUPS"
    assert error["extensions"]["maxLookups"] == 100


async def test_an_invalid_id_number_is_named(hub_app: Starlette, partner: FakePartner):
    response = await partner.post(status_body("11010519491231002X", "310115198403122628"))
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_ID_NUMBER"
    assert error["extensions"]["argument"] == "idNumbers[1]"


async def test_a_request_without_a_token_is_refused_and_audited(
    hub_app: Starlette, hub_client: httpx.AsyncClient, partner: FakePartner
):
    response = await hub_client.post("/partner/graphql", json=status_body(NOBODY))
    found = await refused(hub_app, response, 401, "UNAUTHENTICATED")
    assert found["client_id"] is None


async def test_a_disabled_partner_is_refused_and_audited(hub_app: Starlette, partner: FakePartner):
    async with hub_app.state.resources.sessions.begin() as session:
        await session.execute(
            update(Client).where(Client.id == partner.client_id).values(enabled=False)
        )
    found = await refused(hub_app, await partner.post(status_body(NOBODY)), 401, "PARTNER_DISABLED")
    assert found["client_id"] == partner.client_id


async def test_a_partner_may_declare_only_its_purpose(hub_app: Starlette, partner: FakePartner):
    response = await partner.client.post(
        "/partner/graphql",
        json=status_body(NOBODY),
        headers={"Authorization": f"Bearer {partner.token()}", "X-Purpose": "CASE_MANAGEMENT"},
    )
    await refused(hub_app, response, 403, "PURPOSE_NOT_ALLOWED")
