"""The partner API is for partners only, and partners reach nothing else."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from adapters import partner as partner_adapter
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Purpose
from hub.partners import documents
from tests.hubclient import audit_entries, credentials, details
from tests.partners.fake import FakePartner, bearer_for

STATUS = {
    "documentId": documents.document_id(partner_adapter.CROSS_REGION_STATUS),
    "variables": {"idNumbers": ["11010519491231002X"]},
}


@pytest.mark.parametrize(
    ("kind", "purpose", "client"),
    [
        (ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, {"department": Source.CIVIL_AFFAIRS}),
        (ClientKind.CHARITY, Purpose.CHARITY_MATCHING, {"organisation_id": "org-0001"}),
    ],
)
async def test_an_agency_or_charity_token_cannot_call_the_partner_api(
    hub_app: Starlette,
    hub_client: httpx.AsyncClient,
    kind: ClientKind,
    purpose: Purpose,
    client: dict[str, object],
):
    sessions = hub_app.state.resources.sessions
    headers = await credentials(sessions, kind, purpose, **client)

    response = await hub_client.post("/partner/graphql", json=STATUS, headers=headers)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_TOKEN"
    (entry,) = await audit_entries(sessions)
    assert (entry.outcome, details(entry)["refused"]) == ("REFUSED", "BAD_TOKEN")


async def test_a_partner_token_cannot_call_anything_else(
    hub_app: Starlette, hub_client: httpx.AsyncClient, partner: FakePartner
):
    # Its signed JWT is no hub token...
    response = await hub_client.post(
        "/graphql",
        json={"query": "{ sources { source } }"},
        headers={"Authorization": f"Bearer {partner.token()}", "X-Purpose": "CROSS_REGION_CHECK"},
    )
    assert response.status_code == 401
    # ...and a hub token issued to the partner's client is refused on /graphql.
    secret = await bearer_for(hub_app.state.resources.sessions, partner.client_id)
    response = await hub_client.post(
        "/graphql",
        json={"query": '{ household(id: "H3101150000001") { id } }'},
        headers={"Authorization": f"Bearer {secret}", "X-Purpose": "CROSS_REGION_CHECK"},
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "PARTNER_API_ONLY"


async def test_agencies_may_not_ask_cross_region_status(gql, hub_app: Starlette):
    found = await gql('{ crossRegionStatus(idNumbers: ["11010519491231002X"]) { idNumber } }')

    assert found["data"] is None
    assert found["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_partner_api_takes_post_only(hub_client: httpx.AsyncClient, partner: FakePartner):
    response = await hub_client.get("/partner/graphql")
    assert response.status_code == 405
    assert response.headers["Hub-Signature"]


async def test_a_document_registered_for_a_partner_reaches_no_more_than_partners_may(
    partner: FakePartner, population: Population
):
    """An operator who registers a wider document for a partner widens nothing: the
    policy still gives partners no household, no person and no referral."""
    household = population.households[3]
    person = household.members[0].id_number

    found = await partner(
        """query($id: ID!, $n: String!) {
          household(id: $id) { id }
          householdByMember(idNumber: $n) { id }
          households(first: 10) { totalCount edges { node { id } } }
        }""",
        id=household.id,
        n=person,
    )
    referrals = await partner("{ referrals { totalCount } }")

    assert found["data"] == {
        "household": None,
        "householdByMember": None,
        "households": {"totalCount": 0, "edges": []},
    }
    assert [e["extensions"]["code"] for e in found["errors"]] == ["FORBIDDEN"]
    assert household.id not in str(found)
    assert referrals["data"] is None
    assert referrals["errors"][0]["extensions"]["code"] == "FORBIDDEN"
