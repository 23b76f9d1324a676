"""Keys with IDs and rotation, on both sides: a partner signing with a new key, and this
hub rotating its own, by hand (``hub partners keys add``) or through a published key set."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.sandbox.population import Population
from hub import signing
from hub.db.partners import Partner
from hub.partners import registry
from tests.hubclient import GraphQL, audit_entries, details
from tests.partners.conftest import SH_URL, Hub, Hubs, moved_person
from tests.partners.fake import FakePartner, new_key
from tests.partners.test_cross_region import CROSS_REGION
from tests.partners.test_partner_api import refused, status_body

NOBODY = "11010519491231002X"


async def test_a_partner_rotating_its_key_is_taken_with_both_until_the_old_is_removed(
    hub_app: Starlette, partner: FakePartner
):
    sessions = hub_app.state.resources.sessions
    new = new_key("js-2")
    await registry.add_keys(sessions, "JS", {"keys": [new.as_dict(private=False)]})

    assert (await partner.post(status_body(NOBODY), partner.token())).status_code == 200
    assert (await partner.post(status_body(NOBODY), partner.token(key=new))).status_code == 200

    await registry.remove_key(sessions, "JS", "js-1")
    assert (await partner.post(status_body(NOBODY), partner.token(key=new))).status_code == 200
    await refused(hub_app, await partner.post(status_body(NOBODY)), 401, "UNKNOWN_KEY")


async def test_a_partner_publishing_its_keys_is_read_again_for_a_key_not_known(
    hub_app: Starlette, partner: FakePartner, transport: Hubs
):
    new = new_key("js-2")
    published = {"keys": [partner.key.as_dict(private=False), new.as_dict(private=False)]}

    async def jwks(_: object) -> JSONResponse:
        return JSONResponse(published)

    transport.hubs["keys.js.example"] = Starlette(routes=[Route("/jwks.json", jwks)])
    async with hub_app.state.resources.sessions.begin() as session:
        await session.execute(
            update(Partner)
            .where(Partner.region == "JS")
            .values(jwks_url="http://keys.js.example/jwks.json")
        )

    response = await partner.post(status_body(NOBODY), partner.token(key=new))

    assert response.status_code == 200, response.text
    assert transport.calls["keys.js.example"] == 1
    (listed,) = await registry.listing(hub_app.state.resources.sessions)
    assert sorted(listed.keys) == ["js-1", "js-2"]


async def rotate(hub: Hub) -> str:
    resources = hub.app.state.resources
    kid = await signing.rotate(resources.sessions, resources.keys)
    resources.signing.forget()
    return kid


async def test_a_hub_that_rotates_its_key_is_refused_until_the_partner_has_the_new_one(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, id_number, _ = moved_person(population)
    await rotate(sh)

    found = await gql(CROSS_REGION, id=household_id)

    assert found["data"]["household"]["crossRegion"] is None
    (error,) = found["errors"]
    assert error["extensions"]["code"] == "PARTNER_REFUSED"
    assert error["extensions"]["refusal"] == "UNKNOWN_KEY"
    refusal = (await audit_entries(js.sessions))[-1]
    assert (refusal.outcome, details(refusal)["refused"]) == ("REFUSED", "UNKNOWN_KEY")

    # Jiangsu's operator adds Shanghai's key set, as published: the old key stays in it.
    published = (await sh.client().get("/.well-known/jwks.json")).json()
    assert len(published["keys"]) == 2
    await registry.add_keys(js.sessions, "SH", published)
    found = await gql(CROSS_REGION, id=household_id)

    assert "errors" not in found, found
    moved = [m for m in found["data"]["household"]["crossRegion"]["members"]]
    assert any(m["idNumber"] == id_number and m["receivesAssistance"] for m in moved)


async def test_a_hub_that_rotates_its_key_is_taken_by_a_partner_reading_its_key_set(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    async with js.sessions.begin() as session:
        await session.execute(
            update(Partner)
            .where(Partner.region == "SH")
            .values(jwks_url=f"{SH_URL}/.well-known/jwks.json")
        )
    assert "errors" not in await gql(CROSS_REGION, id=household_id)  # read the key set
    await rotate(sh)
    # A key not known has the key set read again, but not more than once in JWKS_RETRY,
    # so that made-up key IDs cannot make a hub fetch its partner's keys at every token.
    refused = await gql(CROSS_REGION, id=household_id)
    assert refused["errors"][0]["extensions"]["code"] == "PARTNER_REFUSED"
    async with js.sessions.begin() as session:
        await session.execute(
            update(Partner)
            .where(Partner.region == "SH")
            .values(jwks_fetched_at=datetime.now(UTC) - registry.JWKS_RETRY * 2)
        )

    found = await gql(CROSS_REGION, id=household_id)

    assert "errors" not in found, found
    assert found["data"]["household"]["crossRegion"]["regions"][0]["state"] == "OK"


async def test_a_partner_answer_signed_by_a_key_not_known_is_not_used(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    await rotate(js)  # Jiangsu signs its answers with a key Shanghai does not hold

    found = await gql(CROSS_REGION, id=household_id)

    assert found["data"]["household"]["crossRegion"] is None
    (error,) = found["errors"]
    assert error["extensions"]["code"] == "PARTNER_SIGNATURE_INVALID"
    assert error["extensions"]["region"] == "JS"
