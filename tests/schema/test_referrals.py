"""Referrals through GraphQL (转介, 一门受理、协同办理): as the departments use them.

The acceptance: a caseworker refers a household to human resources, human resources
accepts and completes it, and both see the history. Beside it: the inbox as a connection
with opaque cursors, reach (out of reach answers exactly as nonexistent), the audit
entries, the policy (purpose included), and charities and partners kept out.
"""

import asyncio
import json
import uuid
from collections import Counter
from typing import Any

import pytest
from graphql import GraphQLObjectType

import schema
from adapters.sandbox.population import Population
from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind, Purpose
from tests.hubclient import GraphQL, audit_entries, details

HR = Source.HUMAN_RESOURCES
RESULT = """__typename ... on ReferralError { code message fromState toState }
  ... on ReferralPayload { referral { id householdId fromDepartment toDepartment reason
    state responseDueOn completionDueOn overdue outcome version
    history { fromState toState department clientName note } } }"""
REFER = f"""mutation($input: ReferHouseholdInput!) {{ referHousehold(input: $input) {{
  {RESULT} }} }}"""
RESPOND = f"""mutation($input: RespondToReferralInput!) {{ respondToReferral(input: $input) {{
  {RESULT} }} }}"""
COMPLETE = f"""mutation($input: CompleteReferralInput!) {{ completeReferral(input: $input) {{
  {RESULT} }} }}"""
WITHDRAW = f"""mutation($input: WithdrawReferralInput!) {{ withdrawReferral(input: $input) {{
  {RESULT} }} }}"""
INBOX = """query($direction: ReferralDirection, $state: ReferralState, $first: Int!,
  $after: String) { referrals(direction: $direction, state: $state, first: $first,
  after: $after) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id householdId state version reason
    history { fromState toState department clientName note } } } } }"""
MISSING_HOUSEHOLD = "H3101019999999"
_HOUSEHOLD = schema.build()._schema.type_map["Household"]
HAS_HOUSEHOLD_FIELD = isinstance(_HOUSEHOLD, GraphQLObjectType) and "referrals" in _HOUSEHOLD.fields


async def _refer(caller: GraphQL, household_id: str, to: Source = HR, **extra: Any) -> Any:
    made = await caller(
        REFER,
        input={"householdId": household_id, "toDepartment": to.name, "reason": "失业", **extra},
    )
    return made["data"]["referHousehold"]


async def _respond(caller: GraphQL, referral: dict[str, Any], accept: bool = True, **extra: Any):
    answered = await caller(
        RESPOND,
        input={"id": referral["id"], "version": referral["version"], "accept": accept, **extra},
    )
    return answered["data"]["respondToReferral"]


async def _inbox(caller: GraphQL, **arguments: Any) -> dict[str, Any]:
    found = await caller(INBOX, **{"first": 20, **arguments})
    assert "errors" not in found, found
    inbox: dict[str, Any] = found["data"]["referrals"]
    return inbox


def _districts(population: Population) -> tuple[District, District]:
    (busiest, _), (next_busiest, _) = Counter(
        h.district for h in population.households
    ).most_common(2)
    return busiest, next_busiest


async def test_a_referral_to_human_resources_accepted_completed_and_seen_by_both(
    gql, as_client, population: Population
):
    household = population.households[3]
    hr = await as_client(ClientKind.AGENCY, department=HR)
    made = await _refer(gql, household.id)
    assert made["__typename"] == "ReferralPayload", made
    referral = made["referral"]
    assert (referral["fromDepartment"], referral["toDepartment"], referral["state"]) == (
        "CIVIL_AFFAIRS",
        "HUMAN_RESOURCES",
        "REQUESTED",
    )
    assert referral["responseDueOn"] is not None
    assert referral["completionDueOn"] is None

    (incoming,) = (await _inbox(hr, direction="INCOMING"))["edges"]
    assert incoming["node"]["id"] == referral["id"]
    accepted = await _respond(hr, incoming["node"], note="已受理")
    assert accepted["referral"]["state"] == "ACCEPTED"
    assert accepted["referral"]["completionDueOn"] is not None
    done = (
        await hr(
            COMPLETE,
            input={
                "id": referral["id"],
                "version": accepted["referral"]["version"],
                "outcome": "已安排公益性岗位",
            },
        )
    )["data"]["completeReferral"]
    assert (done["referral"]["state"], done["referral"]["outcome"]) == (
        "COMPLETED",
        "已安排公益性岗位",
    )

    steps: list[dict[str, Any]] = [
        {"fromState": None, "toState": "REQUESTED", "department": "CIVIL_AFFAIRS", "note": None},
        {"fromState": "REQUESTED", "toState": "ACCEPTED", "department": HR.name, "note": "已受理"},
        {"fromState": "ACCEPTED", "toState": "COMPLETED", "department": HR.name, "note": None},
    ]
    for caller, direction in [(gql, "OUTGOING"), (hr, "INCOMING")]:
        (edge,) = (await _inbox(caller, direction=direction))["edges"]
        history = edge["node"]["history"]
        assert [{k: s[k] for k in steps[0]} for s in history] == steps
        assert all(s["clientName"] for s in history)


@pytest.mark.skipif(not HAS_HOUSEHOLD_FIELD, reason="Household.referrals is not wired yet")
async def test_both_departments_see_the_referral_on_the_household(gql, as_client, population):
    household = population.households[3]
    hr = await as_client(ClientKind.AGENCY, department=HR)
    housing = await as_client(ClientKind.AGENCY, department=Source.HOUSING)
    referral = (await _refer(gql, household.id))["referral"]
    query = """query($id: ID!) { household(id: $id) { referrals { totalCount
      edges { node { id state } } } } }"""
    for caller, seen in [(gql, [referral["id"]]), (hr, [referral["id"]]), (housing, [])]:
        found = (await caller(query, id=household.id))["data"]["household"]["referrals"]
        assert [e["node"]["id"] for e in found["edges"]] == seen
        assert found["totalCount"] == len(seen)


async def test_the_inbox_pages_with_opaque_cursors_for_its_client(
    gql, as_client, population: Population
):
    hr = await as_client(ClientKind.AGENCY, department=HR)
    made = [(await _refer(gql, h.id))["referral"] for h in population.households[:5]]
    seen: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        page = await _inbox(hr, first=2, after=after)
        assert page["totalCount"] == 5
        seen += [e["node"]["id"] for e in page["edges"]]
        cursors += [e["cursor"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [r["id"] for r in reversed(made)]  # newest first
    for cursor, referral in zip(cursors, reversed(made), strict=True):
        assert referral["id"] not in cursor
        assert referral["householdId"] not in cursor
    # A cursor is good only for the client it was given to, and only as it was given.
    other = await as_client(ClientKind.AGENCY, department=HR)
    for caller, cursor in [(other, cursors[0]), (hr, cursors[0][:-2]), (hr, "bm90IGEgY3Vyc29y")]:
        refused = await caller(INBOX, first=2, after=cursor)
        assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    too_many = await hr(INBOX, first=101)
    assert too_many["errors"][0]["extensions"]["argument"] == "first"
    assert (await _inbox(hr, state="ACCEPTED"))["totalCount"] == 0
    assert (await _inbox(hr, direction="OUTGOING"))["totalCount"] == 0


async def test_answering_a_referral_out_of_reach_is_exactly_as_nonexistent(
    gql, as_client, hub_sessions, population: Population
):
    mine, theirs = _districts(population)
    outside = next(h for h in population.households if h.district is theirs)
    limited = await as_client(ClientKind.AGENCY, department=HR, district=mine)
    referral = (await _refer(gql, outside.id))["referral"]
    before = len(await audit_entries(hub_sessions))

    hidden = await limited(RESPOND, input={"id": referral["id"], "version": 1, "accept": True})
    missing = await limited(RESPOND, input={"id": str(uuid.uuid4()), "version": 1, "accept": True})

    assert hidden == missing
    assert hidden["data"]["respondToReferral"]["code"] == "REFERRAL_NOT_FOUND"
    assert outside.id not in json.dumps(hidden)
    assert (await _inbox(limited))["edges"] == []
    assert (await _inbox(await as_client(ClientKind.AGENCY, department=HR)))["edges"][0]["node"][
        "state"
    ] == "REQUESTED"
    entries = (await audit_entries(hub_sessions))[before:]
    assert [(e.operation, e.outcome, e.households) for e in entries[:2]] == [
        ("mutation", "DENIED", f'["{outside.id}"]'),
        ("mutation", "NOT_FOUND", "[]"),
    ]


async def test_referring_a_household_out_of_reach_is_exactly_as_nonexistent(
    as_client, hub_sessions, population: Population
):
    mine, theirs = _districts(population)
    outside = next(h for h in population.households if h.district is theirs)
    limited = await as_client(ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine)
    hidden = await _refer(limited, outside.id)
    missing = await _refer(limited, MISSING_HOUSEHOLD)
    assert (
        hidden
        == missing
        == {
            "__typename": "ReferralError",
            "code": "HOUSEHOLD_NOT_FOUND",
            "message": "no such household",
            "fromState": None,
            "toState": None,
        }
    )
    entries = (await audit_entries(hub_sessions))[-2:]
    assert [(e.outcome, e.households) for e in entries] == [
        ("DENIED", f'["{outside.id}"]'),
        ("NOT_FOUND", f'["{MISSING_HOUSEHOLD}"]'),
    ]
    inside = next(h for h in population.households if h.district is mine)
    assert (await _refer(limited, inside.id))["__typename"] == "ReferralPayload"


async def test_every_referral_read_and_change_is_audited(
    gql, as_client, hub_sessions, population: Population
):
    household = population.households[4]
    hr = await as_client(ClientKind.AGENCY, department=HR)
    await _refer(gql, household.id)
    made = (await audit_entries(hub_sessions))[-1]
    assert (made.operation, made.outcome, made.households, made.sections) == (
        "mutation",
        "GRANTED",
        f'["{household.id}"]',
        '["referrals"]',
    )
    await hr("{ referrals(first: 5) { edges { cursor } } }")
    read = (await audit_entries(hub_sessions))[-1]
    assert (read.outcome, read.households, read.sections) == (
        "GRANTED",
        f'["{household.id}"]',
        '["referrals"]',
    )
    assert details(read) == {"filter": {}}
    await hr("{ referrals { totalCount } }")
    counted = (await audit_entries(hub_sessions))[-1]
    assert (counted.households, details(counted)) == ("[]", {"filter": {}, "aggregate": True})


# Partners never reach /graphql; through the partner API they see no referrals either
# (tests/partners/test_access.py).
@pytest.mark.parametrize(("kind", "extra"), [(ClientKind.CHARITY, {"organisation_id": "org-a"})])
async def test_charities_neither_see_nor_change_referrals(
    gql, as_client, hub_sessions, population: Population, kind, extra
):
    household = population.households[5]
    referral = (await _refer(gql, household.id))["referral"]
    outsider = await as_client(kind, **extra)
    assert (await _refer(outsider, household.id))["code"] == "NOT_ALLOWED"
    assert (await _respond(outsider, referral))["code"] == "NOT_ALLOWED"
    withdrawn = await outsider(WITHDRAW, input={"id": referral["id"], "version": 1})
    assert withdrawn["data"]["withdrawReferral"]["code"] == "NOT_ALLOWED"
    listed = await outsider("{ referrals { totalCount } }")
    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = (await audit_entries(hub_sessions))[-1]
    assert (refused.outcome, refused.households) == ("REFUSED", "[]")
    (edge,) = (await _inbox(gql))["edges"]
    assert (edge["node"]["state"], edge["node"]["version"]) == ("REQUESTED", 1)


async def test_outreach_sees_states_but_not_the_free_text(gql, as_client, population):
    household = population.households[6]
    await _refer(gql, household.id)
    outreach = await as_client(ClientKind.AGENCY, Purpose.PROACTIVE_OUTREACH, department=HR)
    found = await outreach("{ referrals { edges { node { state reason } } } }")
    assert found["data"]["referrals"]["edges"] == [{"node": {"state": "REQUESTED", "reason": None}}]
    assert {e["extensions"]["field"] for e in found["errors"]} == {"Referral.reason"}


async def test_two_answers_at_once_one_wins_the_other_is_a_conflict(
    gql, as_client, population: Population
):
    referral = (await _refer(gql, population.households[7].id))["referral"]
    hr = await as_client(ClientKind.AGENCY, department=HR)
    answers = await asyncio.gather(
        _respond(hr, referral, accept=True), _respond(hr, referral, accept=False, note="不符合")
    )
    assert sorted(a["__typename"] for a in answers) == ["ReferralError", "ReferralPayload"]
    lost = next(a for a in answers if a["__typename"] == "ReferralError")
    assert lost["code"] == "CONFLICT"
    (edge,) = (await _inbox(hr))["edges"]
    assert [s["toState"] for s in edge["node"]["history"]] == [
        "REQUESTED",
        next(a for a in answers if a["__typename"] == "ReferralPayload")["referral"]["state"],
    ]


async def test_an_illegal_step_and_a_wrong_department_are_typed_errors(
    gql, as_client, population: Population
):
    referral = (await _refer(gql, population.households[8].id))["referral"]
    hr = await as_client(ClientKind.AGENCY, department=HR)
    early = await hr(COMPLETE, input={"id": referral["id"], "version": 1, "outcome": "x"})
    assert early["data"]["completeReferral"] == {
        "__typename": "ReferralError",
        "code": "ILLEGAL_TRANSITION",
        "message": "a referral cannot go from REQUESTED to COMPLETED",
        "fromState": "REQUESTED",
        "toState": "COMPLETED",
    }
    assert (await _respond(gql, referral))["code"] == "NOT_ALLOWED"
    withdrawn = await gql(WITHDRAW, input={"id": referral["id"], "version": 1, "note": "误报"})
    assert withdrawn["data"]["withdrawReferral"]["referral"]["state"] == "WITHDRAWN"
    assert (await _respond(hr, referral))["code"] == "CONFLICT"  # version 1 is gone
    again = await _respond(hr, {**referral, "version": 2})
    assert (again["code"], again["fromState"], again["toState"]) == (
        "ILLEGAL_TRANSITION",
        "WITHDRAWN",
        "ACCEPTED",
    )
    assert (await _refer(gql, population.households[8].id, Source.CIVIL_AFFAIRS))[
        "code"
    ] == "SAME_DEPARTMENT"


async def test_a_referral_retried_with_its_idempotency_key_is_made_once(
    gql, as_client, population: Population
):
    household_id = population.households[9].id
    key = str(uuid.uuid4())
    made = await asyncio.gather(*(_refer(gql, household_id, idempotencyKey=key) for _ in range(4)))
    assert {m["__typename"] for m in made} == {"ReferralPayload"}, made
    assert len({m["referral"]["id"] for m in made}) == 1
    hr = await as_client(ClientKind.AGENCY, department=HR)
    (edge,) = (await _inbox(hr))["edges"]
    assert edge["node"]["id"] == made[0]["referral"]["id"]
    assert [s["toState"] for s in edge["node"]["history"]] == ["REQUESTED"]
    # The key is the caller's: another reason under it is refused, and a bad key too.
    other = await _refer(gql, household_id, idempotencyKey=key, reason="另一个原因")
    assert other["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await _refer(gql, household_id, idempotencyKey=""))["code"] == (
        "INVALID_IDEMPOTENCY_KEY"
    )
    # Out of reach under a used key still answers as a household that does not exist.
    missing = await _refer(gql, MISSING_HOUSEHOLD, idempotencyKey=key)
    assert missing["code"] == "HOUSEHOLD_NOT_FOUND"
    assert len((await _inbox(hr))["edges"]) == 1
