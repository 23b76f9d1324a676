"""Demo clients, tokens and consents for ``make run``: enough to see the access model work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from adapters.charity import CharityAdapter, CharityOrganisationKind
from adapters.vocabulary import Source
from hub.auth import clients as registry
from hub.auth import consent
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.db.models import Client, Consent, IndexedHousehold
from hub.resources import Resources

CASEWORKER = "demo-caseworker"
CHARITY = "demo-charity"
AUDITOR = "demo-auditor"
HUMAN_RESOURCES = "demo-human-resources"  # receives referrals (一门受理、协同办理)
OPERATOR = "demo-operator"  # reads /metrics
CONSENTED = 25  # households that consent to share with the demo charity


@dataclass(frozen=True)
class DemoAccess:
    caseworker_token: str
    charity_token: str
    auditor_token: str
    human_resources_token: str
    operator_token: str
    charity_name: str
    consented_household: str
    unconsented_household: str


async def prepare(resources: Resources) -> DemoAccess:
    """Create the demo clients and consents once; issue fresh tokens on every run."""
    sessions = resources.sessions
    charity_adapter = resources.adapters[Source.CHARITY]
    assert isinstance(charity_adapter, CharityAdapter)
    foundation = next(
        o
        for o in await charity_adapter.organisations()
        if o.kind is CharityOrganisationKind.FOUNDATION
    )
    async with sessions() as session:
        existing = set(await session.scalars(select(Client.name)))
        households = list(
            await session.scalars(
                select(IndexedHousehold.household_id).order_by(IndexedHousehold.household_id)
            )
        )
    if CASEWORKER not in existing:
        await registry.add_client(
            sessions, name=CASEWORKER, kind=ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS
        )
    if CHARITY not in existing:
        await registry.add_client(
            sessions, name=CHARITY, kind=ClientKind.CHARITY, organisation_id=foundation.id
        )
    if AUDITOR not in existing:
        await registry.add_client(sessions, name=AUDITOR, kind=ClientKind.AUDITOR)
    if HUMAN_RESOURCES not in existing:
        await registry.add_client(
            sessions,
            name=HUMAN_RESOURCES,
            kind=ClientKind.AGENCY,
            department=Source.HUMAN_RESOURCES,
        )
    if OPERATOR not in existing:
        await registry.add_client(sessions, name=OPERATOR, kind=ClientKind.OPERATOR)
    chosen = households[:: max(1, len(households) // CONSENTED)][:CONSENTED]
    async with sessions() as session:
        caseworker = await registry.find_client(session, CASEWORKER)
        charity = await registry.find_client(session, CHARITY)
        consented = set(await session.scalars(select(Consent.household_id)))
    now = datetime.now(UTC)
    recorder = Principal(
        client_id=caseworker.id,
        client_name=caseworker.name,
        kind=ClientKind.AGENCY,
        token_id="-",  # noqa: S106 (recorded by the demo set-up, not by a request)
        purpose=Purpose.CASE_MANAGEMENT,
        department=Source.CIVIL_AFFAIRS,
    )
    for household_id in chosen:
        if household_id not in consented:
            await consent.record(
                sessions,
                recorder,
                household_id=household_id,
                organisation_id=charity.organisation_id,
                purpose=Purpose.CHARITY_MATCHING,
                expires_at=now + timedelta(days=365),
                now=now,
            )
    ttl = timedelta(days=7)
    tokens = [
        (await registry.issue_token(sessions, name, ttl=ttl)).secret
        for name in (CASEWORKER, CHARITY, AUDITOR, HUMAN_RESOURCES, OPERATOR)
    ]
    unconsented = next(h for h in households if h not in set(chosen))
    return DemoAccess(
        caseworker_token=tokens[0],
        charity_token=tokens[1],
        auditor_token=tokens[2],
        human_resources_token=tokens[3],
        operator_token=tokens[4],
        charity_name=foundation.name,
        consented_household=chosen[0],
        unconsented_household=unconsented,
    )
