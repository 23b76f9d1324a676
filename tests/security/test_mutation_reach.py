"""Finding 3: every mutation checks reach; out of reach answers as a nonexistent target.

A district-limited caseworker could withdraw another district's consent by its ID, and
the answer named that household and organisation; a wrong ID answered differently, so
consent IDs could be probed. The walk below covers every mutation of the schema: a new
mutation fails it until it says how it is tried against an out-of-reach target.
"""

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import schema
from adapters.sandbox.population import Population
from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind
from hub.db.coordination import (
    Alert,
    ChangeReport,
    RecordedCharityAid,
    Referral,
    ReferralEvent,
    Review,
    ReviewSchedule,
)
from hub.db.models import Consent
from hub.db.partners import CaseTransfer, OutboxMessage, ReceivedMessage
from tests.hubclient import GraphQL, audit_entries
from tests.partners.fake import fake_partner

MISSING_HOUSEHOLD = "H3101019999999"
RECORD = """mutation($id: ID!, $until: Date!) {
  recordConsent(input: {householdId: $id, organisationId: "org-a", expiresOn: $until}) {
    __typename ... on ConsentError { code message }
    ... on ConsentPayload { consent { id householdId organisationId } } } }"""
WITHDRAW = """mutation($id: ID!) { withdrawConsent(id: $id) {
  __typename ... on ConsentError { code message }
  ... on ConsentPayload { consent { id householdId organisationId } } } }"""


@dataclass
class Targets:
    """Things that exist out of the limited caseworker's reach, made by a city-wide one."""

    household: str
    consent: str
    alert: str
    referral: str
    transfer: str  # an incoming transfer from a partner region
    sent: str  # a transfer of the household, sent to another region than the caller's


async def _consent(gql: GraphQL, household_id: str) -> str:
    until = (date.today() + timedelta(days=30)).isoformat()
    made = (await gql(RECORD, id=household_id, until=until))["data"]["recordConsent"]
    consent_id: str = made["consent"]["id"]
    return consent_id


# Each mutation: how to try it against a target, given the target's kind of ID.
Attempt = Callable[[GraphQL, str], Awaitable[dict[str, Any]]]


async def _record(caller: GraphQL, household_id: str) -> dict[str, Any]:
    until = (date.today() + timedelta(days=30)).isoformat()
    return await caller(RECORD, id=household_id, until=until)


async def _withdraw(caller: GraphQL, consent_id: str) -> dict[str, Any]:
    return await caller(WITHDRAW, id=consent_id)


REVIEW = """mutation($id: ID!, $on: Date!) { recordReview(input: {householdId: $id,
  category: MINIMUM_LIVING, reviewedOn: $on, outcome: CONTINUED}) {
  __typename ... on ReviewError { code message } } }"""
CHANGE = """mutation($id: ID!, $on: Date!) { reportChange(input: {householdId: $id,
  kind: OTHER, occurredOn: $on}) { __typename ... on ReviewError { code message } } }"""


ACKNOWLEDGE = """mutation($id: ID!) { acknowledgeAlert(id: $id) {
  __typename ... on AlertError { code message } } }"""
DISMISS = """mutation($id: ID!) { dismissAlert(id: $id, reason: "not needed") {
  __typename ... on AlertError { code message } } }"""


async def _acknowledge(caller: GraphQL, alert_id: str) -> dict[str, Any]:
    return await caller(ACKNOWLEDGE, id=alert_id)


async def _dismiss(caller: GraphQL, alert_id: str) -> dict[str, Any]:
    return await caller(DISMISS, id=alert_id)


async def _alert(sessions: Any, household_id: str) -> str:
    """An open alert on a household, as discovery would have raised it."""
    alert_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        session.add(
            Alert(
                id=alert_id,
                household_id=household_id,
                rule="HOUSING_HARDSHIP",
                state="OPEN",
                evidence=(
                    '{"department": "housing", "fact": "f", "summary": "s", '
                    '"rules_version": "v", "value": null, "threshold": null}'
                ),
                rules_version="v",
                opened_at=now,
                updated_at=now,
            )
        )
    return alert_id


async def _review(caller: GraphQL, household_id: str) -> dict[str, Any]:
    return await caller(REVIEW, id=household_id, on=date.today().isoformat())


async def _change(caller: GraphQL, household_id: str) -> dict[str, Any]:
    return await caller(CHANGE, id=household_id, on=date.today().isoformat())


REFER = """mutation($id: ID!) { referHousehold(input: {householdId: $id,
  toDepartment: HUMAN_RESOURCES, reason: "就业援助"}) {
  __typename ... on ReferralError { code message }
  ... on ReferralPayload { referral { id householdId } } } }"""
RESPOND = """mutation($id: ID!) { respondToReferral(input: {id: $id, version: 1, accept: true}) {
  __typename ... on ReferralError { code message } } }"""
COMPLETE = """mutation($id: ID!) { completeReferral(input: {id: $id, version: 1, outcome: "x"}) {
  __typename ... on ReferralError { code message } } }"""
WITHDRAW_REFERRAL = """mutation($id: ID!) { withdrawReferral(input: {id: $id, version: 1}) {
  __typename ... on ReferralError { code message } } }"""


async def _referral(gql: GraphQL, household_id: str) -> str:
    made = (await gql(REFER, id=household_id))["data"]["referHousehold"]
    referral_id: str = made["referral"]["id"]
    return referral_id


async def _refer(caller: GraphQL, household_id: str) -> dict[str, Any]:
    return await caller(REFER, id=household_id)


async def _respond(caller: GraphQL, referral_id: str) -> dict[str, Any]:
    return await caller(RESPOND, id=referral_id)


async def _complete(caller: GraphQL, referral_id: str) -> dict[str, Any]:
    return await caller(COMPLETE, id=referral_id)


async def _withdraw_referral(caller: GraphQL, referral_id: str) -> dict[str, Any]:
    return await caller(WITHDRAW_REFERRAL, id=referral_id)


RECORD_AID = """mutation($id: ID!) { recordCharityAid(input: {householdId: $id,
  idempotencyKey: "grant-1", kind: CASH, amount: "100", givenOn: "2026-01-01",
  projectName: "慈善超市"}) { __typename ... on CharityAidError { code message } } }"""


async def _record_aid(caller: GraphQL, household_id: str) -> dict[str, Any]:
    return await caller(RECORD_AID, id=household_id)


REQUEST_TRANSFER = """mutation($id: ID!) { requestCaseTransfer(input: {householdId: $id,
  toRegion: "JS", reason: "迁居"}) { __typename ... on CaseTransferError { code message } } }"""
ACCEPT_TRANSFER = """mutation($id: ID!) { acceptCaseTransfer(input: {id: $id, version: 1}) {
  __typename ... on CaseTransferError { code message } } }"""
DECLINE_TRANSFER = """mutation($id: ID!) { declineCaseTransfer(input: {id: $id, version: 1,
  note: "x"}) { __typename ... on CaseTransferError { code message } } }"""
RECEIVE_DECISION = """mutation($id: ID!) { receiveTransferDecision(input: {messageId: "m-1",
  transferId: $id, decision: ACCEPTED}) {
  __typename ... on PartnerMessageError { code message } } }"""


async def _request_transfer(caller: GraphQL, household_id: str) -> dict[str, Any]:
    return await caller(REQUEST_TRANSFER, id=household_id)


async def _accept_transfer(caller: GraphQL, transfer_id: str) -> dict[str, Any]:
    return await caller(ACCEPT_TRANSFER, id=transfer_id)


async def _decline_transfer(caller: GraphQL, transfer_id: str) -> dict[str, Any]:
    return await caller(DECLINE_TRANSFER, id=transfer_id)


async def _receive_decision(caller: GraphQL, transfer_id: str) -> dict[str, Any]:
    return await caller(RECEIVE_DECISION, id=transfer_id)


async def _transfer(sessions: Any, *, direction: str, household_id: str | None) -> str:
    """A transfer waiting for an answer: incoming from JS, or this household's sent to ZJ."""
    transfer_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        session.add(
            CaseTransfer(
                id=transfer_id,
                direction=direction,
                partner_region="JS" if direction == "INCOMING" else "ZJ",
                remote_id=str(uuid.uuid4()) if direction == "INCOMING" else None,
                household_id=household_id if direction == "OUTGOING" else None,
                partner_household_id="H3201020000001" if direction == "INCOMING" else None,
                state="REQUESTED",
                reason="迁居",
                moved_on=None,
                members="[]",
                categories="[]",
                note=None,
                requested_by=None,
                decided_by=None,
                decided_at=None,
                created_at=now,
                updated_at=now,
            )
        )
    return transfer_id


MUTATIONS: dict[str, tuple[Attempt, str]] = {
    # mutation: (attempt, which target it takes)
    "recordConsent": (_record, "household"),
    "withdrawConsent": (_withdraw, "consent"),
    "recordReview": (_review, "household"),
    "reportChange": (_change, "household"),
    "acknowledgeAlert": (_acknowledge, "alert"),
    "dismissAlert": (_dismiss, "alert"),
    "referHousehold": (_refer, "household"),
    "respondToReferral": (_respond, "referral"),
    "completeReferral": (_complete, "referral"),
    "withdrawReferral": (_withdraw_referral, "referral"),
    "recordCharityAid": (_record_aid, "household"),
    "requestCaseTransfer": (_request_transfer, "household"),
    "acceptCaseTransfer": (_accept_transfer, "transfer"),
    "declineCaseTransfer": (_decline_transfer, "transfer"),
    # Jiangsu's hub deciding on a transfer Shanghai sent to Zhejiang.
    "receiveTransferDecision": (_receive_decision, "sent"),
}
# Mutations with no target to be out of reach, and where their bounds are tested instead.
ELSEWHERE = {
    # It makes an incoming transfer of the calling partner's own; message and transfer IDs
    # are the partner's, so another region's, reused, touch nothing of theirs.
    "receiveCaseTransfer": "tests/partners/test_transfers.py::test_a_partner_names_only_its_own",
}
# Targets that name no household of this hub (an incoming transfer names the sender's):
# both attempts are logged as not found, naming none.
UNNAMED = {"transfer"}
# Mutations only partner hubs make, through the partner API (as Jiangsu).
PARTNER_MUTATIONS = {"receiveTransferDecision"}
# Who tries a mutation that only another kind of client makes, instead of the limited
# caseworker: a charity whose reach (a consent naming it) leaves the target out (the
# target's consent names org-a).
OTHER_CALLERS: dict[str, dict[str, Any]] = {
    "recordCharityAid": {"kind": ClientKind.CHARITY, "organisation_id": "org-b"},
}
NONEXISTENT = {
    "household": MISSING_HOUSEHOLD,
    "consent": str(uuid.uuid4()),
    "alert": str(uuid.uuid4()),
    "referral": str(uuid.uuid4()),
    "transfer": str(uuid.uuid4()),
    "sent": str(uuid.uuid4()),
}


def test_the_walk_covers_every_mutation():
    mutation_type = schema.build()._schema.mutation_type
    assert mutation_type is not None
    assert set(mutation_type.fields) == set(MUTATIONS) | set(ELSEWHERE)
    assert not set(MUTATIONS) & set(ELSEWHERE)


@pytest.fixture
async def limited(as_client, population: Population) -> tuple[GraphQL, District]:
    (mine, _), _ = Counter(h.district for h in population.households).most_common(2)
    caller = await as_client(ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine)
    return caller, mine


async def _consents(sessions: Any) -> list[object]:
    """What a mutation could have changed: every row of the hub's own records."""
    async with sessions() as session:
        consents = [
            (c.id, c.withdrawn_at, c.version)
            for c in await session.scalars(select(Consent).order_by(Consent.id))
        ]
        others = []
        models = (Review, ChangeReport, ReviewSchedule, Referral, ReferralEvent, RecordedCharityAid)
        partners = (CaseTransfer, OutboxMessage, ReceivedMessage)
        for model in (*models, *partners, Alert):
            rows = await session.scalars(select(model))
            others.append(
                sorted(str({k: v for k, v in vars(r).items() if k[0] != "_"}) for r in rows)
            )
    return [consents, *others]


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_out_of_reach_answers_as_nonexistent_and_changes_nothing(
    mutation, gql, limited, as_client, hub_sessions, hub_app, hub_client, population: Population
):
    caller, mine = limited
    if mutation in OTHER_CALLERS:
        caller = await as_client(**OTHER_CALLERS[mutation])
    if mutation in PARTNER_MUTATIONS:
        caller = await fake_partner(hub_app, hub_client)
    outside = next(h for h in population.households if h.district is not mine)
    targets = Targets(
        household=outside.id,
        consent=await _consent(gql, outside.id),
        alert=await _alert(hub_sessions, outside.id),
        referral=await _referral(gql, outside.id),
        transfer=await _transfer(hub_sessions, direction="INCOMING", household_id=None),
        sent=await _transfer(hub_sessions, direction="OUTGOING", household_id=outside.id),
    )
    attempt, kind = MUTATIONS[mutation]
    before = await _consents(hub_sessions)
    entries_before = len(await audit_entries(hub_sessions))

    hidden = await attempt(caller, getattr(targets, kind))
    missing = await attempt(caller, NONEXISTENT[kind])

    assert hidden == missing
    assert hidden["data"][mutation]["__typename"].endswith("Error")
    assert outside.id not in str(hidden)
    assert await _consents(hub_sessions) == before
    # Both attempts are in the log; the one on a real household names it, as refused.
    entries = (await audit_entries(hub_sessions))[entries_before:]
    assert [e.operation for e in entries] == ["mutation", "mutation"]
    if kind in UNNAMED:
        assert [(e.outcome, e.households) for e in entries] == [("NOT_FOUND", "[]")] * 2
        return
    assert entries[0].outcome == "DENIED"
    assert entries[0].households == f'["{outside.id}"]'
    assert entries[1].outcome == "NOT_FOUND"


async def test_a_withdrawal_in_reach_still_works(gql, limited, population: Population):
    caller, mine = limited
    inside = next(h for h in population.households if h.district is mine)
    consent = await _consent(gql, inside.id)
    done = (await _withdraw(caller, consent))["data"]["withdrawConsent"]
    assert done["__typename"] == "ConsentPayload"
    assert done["consent"]["householdId"] == inside.id
