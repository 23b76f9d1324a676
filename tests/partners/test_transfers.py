"""Case transfers between two hubs over HTTP: requested in Shanghai, delivered through its
outbox, accepted in Jiangsu, the decision delivered back; nothing lost while a hub is
down, and every message taken once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Purpose
from hub.db.partners import CaseTransfer
from hub.partners.outbox import Delivery, OutboxSender, deliver_due
from tests.hubclient import GraphQL, audit_entries, credentials
from tests.partners.conftest import JS_HOST, SH_HOST, Hub, moved_person
from tests.partners.fake import fake_partner

REQUEST = """mutation($input: RequestCaseTransferInput!) {
  requestCaseTransfer(input: $input) {
    __typename
    ... on CaseTransferError { code message }
    ... on CaseTransferPayload { transfer { id state region householdId version
      messages { kind state attempts lastError } } }
  }
}"""
LIST = """query($direction: TransferDirection) {
  caseTransfers(direction: $direction, first: 10) {
    totalCount
    edges { node { id direction region state householdId partnerHouseholdId reason
      memberIdNumbers categories { category since } note version
      messages { kind state attempts nextAttemptAt lastError deliveredAt } } }
  }
}"""
ACCEPT = """mutation($input: DecideCaseTransferInput!) {
  acceptCaseTransfer(input: $input) {
    __typename
    ... on CaseTransferError { code message }
    ... on CaseTransferPayload { transfer { id state version } }
  }
}"""
DECLINE = ACCEPT.replace("acceptCaseTransfer", "declineCaseTransfer")


@pytest.fixture
async def js_caseworker(js: Hub) -> AsyncIterator[GraphQL]:
    """A city-level civil-affairs caseworker of Jiangsu."""
    headers = await credentials(
        js.sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
    )
    async with js.client() as client:
        yield GraphQL(client, headers)


async def deliver(hub: Hub, *, at: datetime | None = None) -> Delivery:
    resources = hub.app.state.resources
    return await deliver_due(resources.sessions, resources.partners, hub.settings, now=at)


async def request(gql: GraphQL, household_id: str) -> dict[str, Any]:
    found = await gql(
        REQUEST,
        input={
            "householdId": household_id,
            "toRegion": "JS",
            "reason": "全家迁往南京投靠子女",
            "movedOn": "2026-11-20",
        },
    )
    made: dict[str, Any] = found["data"]["requestCaseTransfer"]
    return made


async def incoming(js_caseworker: GraphQL) -> list[dict[str, Any]]:
    found = await js_caseworker(LIST, direction="INCOMING")
    nodes: list[dict[str, Any]] = [e["node"] for e in found["data"]["caseTransfers"]["edges"]]
    return nodes


async def test_a_transfer_goes_across_and_is_accepted(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, id_number, _ = moved_person(population)
    household = next(h for h in population.households if h.id == household_id)

    made = await request(gql, household_id)

    assert made["__typename"] == "CaseTransferPayload", made
    sent = made["transfer"]
    assert (sent["state"], sent["region"], sent["householdId"]) == ("REQUESTED", "JS", household_id)
    assert sent["messages"] == [
        {"kind": "TRANSFER_REQUEST", "state": "PENDING", "attempts": 0, "lastError": None}
    ]
    assert len((await deliver(sh)).delivered) == 1

    (taken,) = await incoming(js_caseworker)
    assert taken["direction"] == "INCOMING"
    assert taken["region"] == "SH"
    assert taken["partnerHouseholdId"] == household_id
    assert taken["householdId"] is None
    assert taken["memberIdNumbers"] == [m.id_number for m in household.members]
    assert id_number in taken["memberIdNumbers"]
    assert taken["reason"] == "全家迁往南京投靠子女"
    active = [
        {"category": e.category.value, "since": e.since.isoformat()}
        for e in household.enrollments
        if e.status.value == "ACTIVE"
    ]
    assert active, "the household moving should be an assisted one"
    assert sorted(taken["categories"], key=str) == sorted(active, key=str)

    accepted = await js_caseworker(
        ACCEPT, input={"id": taken["id"], "version": taken["version"], "note": "已接收"}
    )
    assert accepted["data"]["acceptCaseTransfer"]["transfer"]["state"] == "ACCEPTED"
    assert len((await deliver(js)).delivered) == 1

    found = await gql(LIST, direction="OUTGOING")
    (outgoing,) = [e["node"] for e in found["data"]["caseTransfers"]["edges"]]
    assert outgoing["state"] == "ACCEPTED"
    assert outgoing["note"] == "已接收"
    assert outgoing["messages"][0]["state"] == "DELIVERED"
    # Both hubs audited their side: Shanghai's request names the household.
    sh_entries = await audit_entries(sh.sessions)
    assert any(household_id in e.households and e.operation == "mutation" for e in sh_entries)
    js_entries = await audit_entries(js.sessions)
    assert [e.client_kind for e in js_entries if e.operation == "ReceiveCaseTransfer"] == [
        "PARTNER"
    ]


async def test_a_transfer_survives_the_receiving_hub_being_down(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    made = await request(gql, household_id)
    assert made["__typename"] == "CaseTransferPayload"
    sh.transport.down.add(JS_HOST)

    first = await deliver(sh)

    assert first.delivered == []
    assert list(first.failed.values()) == ["PARTNER_UNAVAILABLE"]
    found = await gql(LIST, direction="OUTGOING")
    (outgoing,) = [e["node"] for e in found["data"]["caseTransfers"]["edges"]]
    (message,) = outgoing["messages"]
    assert (message["state"], message["attempts"], message["lastError"]) == (
        "PENDING",
        1,
        "PARTNER_UNAVAILABLE",
    )
    retry_at = datetime.fromisoformat(message["nextAttemptAt"])
    assert retry_at > datetime.now(UTC)
    # Not tried again before its time, and the hub coming back changes nothing until then.
    sh.transport.down.discard(JS_HOST)
    assert await deliver(sh) == Delivery()
    assert await incoming(js_caseworker) == []

    later = await deliver(sh, at=retry_at + timedelta(seconds=1))

    assert len(later.delivered) == 1
    (taken,) = await incoming(js_caseworker)
    assert taken["partnerHouseholdId"] == household_id


async def test_a_message_delivered_twice_is_taken_once(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    await request(gql, household_id)
    # Jiangsu takes the message, but its answer is lost on the way back...
    sh.transport.lost.add(JS_HOST)
    assert list((await deliver(sh)).failed.values()) == ["PARTNER_UNAVAILABLE"]
    sh.transport.lost.discard(JS_HOST)

    # ...so Shanghai sends it again, and Jiangsu says it has it already.
    again = await deliver(sh, at=datetime.now(UTC) + timedelta(hours=2))

    assert len(again.delivered) == 1
    assert sh.transport.calls[JS_HOST] == 2
    async with js.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(CaseTransfer))
    assert count == 1
    assert len(await incoming(js_caseworker)) == 1


async def test_a_decline_flows_back_while_the_sender_was_down(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    await request(gql, household_id)
    await deliver(sh)
    (taken,) = await incoming(js_caseworker)
    missing_note = await js_caseworker(
        DECLINE, input={"id": taken["id"], "version": taken["version"]}
    )
    assert missing_note["data"]["declineCaseTransfer"]["code"] == "INVALID_NOTE"
    declined = await js_caseworker(
        DECLINE, input={"id": taken["id"], "version": taken["version"], "note": "户籍未迁入"}
    )
    assert declined["data"]["declineCaseTransfer"]["transfer"]["state"] == "DECLINED"
    js.transport.down.add(SH_HOST)

    assert list((await deliver(js)).failed.values()) == ["PARTNER_UNAVAILABLE"]
    js.transport.down.discard(SH_HOST)
    assert len((await deliver(js, at=datetime.now(UTC) + timedelta(hours=2))).delivered) == 1

    found = await gql(LIST, direction="OUTGOING")
    (outgoing,) = [e["node"] for e in found["data"]["caseTransfers"]["edges"]]
    assert (outgoing["state"], outgoing["note"]) == ("DECLINED", "户籍未迁入")


async def test_the_app_delivers_the_outbox_by_itself(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    await request(gql, household_id)
    resources = sh.app.state.resources
    quick = sh.settings.model_copy(update={"outbox_interval": 0.05})
    sender = OutboxSender(resources.sessions, resources.partners, quick)
    sender.start()
    try:
        for _ in range(100):
            if await incoming(js_caseworker):
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.aclose()
    assert len(await incoming(js_caseworker)) == 1


async def test_a_conflicting_or_repeated_decision_changes_nothing(
    sh: Hub, js: Hub, gql: GraphQL, js_caseworker: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    await request(gql, household_id)
    await deliver(sh)
    (taken,) = await incoming(js_caseworker)
    stale = await js_caseworker(ACCEPT, input={"id": taken["id"], "version": taken["version"] + 1})
    assert stale["data"]["acceptCaseTransfer"]["code"] == "CONFLICT"
    await js_caseworker(ACCEPT, input={"id": taken["id"], "version": taken["version"]})
    again = await js_caseworker(ACCEPT, input={"id": taken["id"], "version": taken["version"] + 1})
    assert again["data"]["acceptCaseTransfer"]["code"] == "ILLEGAL_TRANSITION"
    # The same household cannot be sent twice while a transfer waits.
    second = await request(gql, household_id)
    assert second == {
        "__typename": "CaseTransferError",
        "code": "ALREADY_REQUESTED",
        "message": "the household has a transfer waiting for an answer",
    }


RECEIVE = """mutation($input: ReceiveCaseTransferInput!) {
  receiveCaseTransfer(input: $input) {
    __typename
    ... on PartnerReceipt { messageId duplicate }
    ... on PartnerMessageError { code message }
  }
}"""


async def test_a_partner_names_only_its_own(
    hub_app: Starlette, hub_client: httpx.AsyncClient, population: Population
):
    """Message and transfer IDs are the sending partner's: Jiangsu reusing Zhejiang's
    takes nothing of Zhejiang's (no "duplicate" to probe with, no transfer changed)."""
    household_id, id_number, _ = moved_person(population)
    zhejiang = await fake_partner(hub_app, hub_client, region="ZJ")
    jiangsu = await fake_partner(hub_app, hub_client, region="JS")
    message = {
        "messageId": "6f1c0d52-1d6b-4a8e-9a51-3c8e0f0b7a10",
        "transferId": "0b8f7e0e-55a4-4c55-8d47-93c1d1f5e2aa",
        "householdId": household_id,
        "reason": "迁居",
        "memberIdNumbers": [id_number],
        "categories": [],
    }
    assert (await zhejiang(RECEIVE, input=message))["data"]["receiveCaseTransfer"] == {
        "__typename": "PartnerReceipt",
        "messageId": message["messageId"],
        "duplicate": False,
    }

    reused = await jiangsu(RECEIVE, input={**message, "reason": "另一户"})

    assert reused["data"]["receiveCaseTransfer"]["duplicate"] is False
    async with hub_app.state.resources.sessions() as session:
        rows = (
            await session.scalars(select(CaseTransfer).order_by(CaseTransfer.partner_region.desc()))
        ).all()
    assert [(r.partner_region, r.remote_id, r.reason) for r in rows] == [
        ("ZJ", message["transferId"], "迁居"),
        ("JS", message["transferId"], "另一户"),
    ]
    # Each region's own message again is a duplicate, and changes nothing.
    again = await zhejiang(RECEIVE, input={**message, "reason": "改过"})
    assert again["data"]["receiveCaseTransfer"]["duplicate"] is True


async def test_a_partner_message_that_is_not_whole_is_refused(
    hub_app: Starlette, hub_client: httpx.AsyncClient, population: Population
):
    household_id, id_number, _ = moved_person(population)
    jiangsu = await fake_partner(hub_app, hub_client)
    message = {
        "messageId": "x" * 37,
        "transferId": "t-1",
        "householdId": household_id,
        "reason": "迁居",
        "memberIdNumbers": [id_number],
        "categories": [],
    }

    found = await jiangsu(RECEIVE, input=message)

    assert found["data"]["receiveCaseTransfer"]["code"] == "INVALID_MESSAGE"
    async with hub_app.state.resources.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CaseTransfer)) == 0
