"""/metrics: for operators only, and its numbers move with what the hub does.

Counters are the process's, shared by every test in it: each test reads them before and
after what it does and compares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Purpose
from hub.settings import SANDBOX_PORTS
from tests.hubclient import GraphQL, credentials
from tests.observability.conftest import sample, total

HOUSEHOLDS = "{ households(first: 3) { edges { node { id charity { totalAmount } } } } }"


@pytest.fixture
async def operator(hub_sessions) -> dict[str, str]:
    headers = await credentials(hub_sessions, ClientKind.OPERATOR, Purpose.OPERATIONS)
    del headers["X-Purpose"]  # an operator's only purpose; a scraper need not say it
    return headers


async def scrape(client: httpx.AsyncClient, operator: dict[str, str]) -> str:
    response = await client.get("/metrics", headers=operator)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_need_an_operator_token(hub_client, caseworker, operator):
    anonymous = await hub_client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    agency = await hub_client.get("/metrics", headers=caseworker)
    assert agency.status_code == 403
    assert agency.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "hub_requests_total" in await scrape(hub_client, operator)


async def test_every_department_has_its_series_before_its_first_call(hub_client, operator):
    text = await scrape(hub_client, operator)
    for source in Source:
        labels = {"department": source.value}
        assert sample(text, "hub_department_breaker_state", **labels) is not None
        assert sample(text, "hub_department_call_duration_seconds_count", **labels) is not None
        assert sample(text, "hub_department_calls_in_flight", **labels) == 0


async def test_requests_are_counted_by_root_field_kind_and_outcome(
    hub_client, caseworker, operator
):
    labels = {"operation": "households", "client_kind": "AGENCY", "outcome": "ok"}
    before = await scrape(hub_client, operator)
    for _ in range(3):
        # The client's own operation name carries an ID number: it never becomes a label.
        response = await hub_client.post(
            "/graphql",
            json={"query": "query Q310115198503151234 { households(first: 1) { totalCount } }"},
            headers=caseworker,
        )
        assert response.status_code == 200
    after = await scrape(hub_client, operator)

    assert (
        sample(after, "hub_requests_total", **labels)
        == (sample(before, "hub_requests_total", **labels) or 0) + 3
    )
    assert total(after, "hub_request_duration_seconds_count", operation="households") == (
        total(before, "hub_request_duration_seconds_count", operation="households") + 3
    )
    assert "310115198503151234" not in after


async def test_a_failing_department_moves_its_errors_and_its_breaker(
    hub_client, caseworker, operator, transport
):
    transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CHARITY]}"].faults.status = 503
    charity = {"department": "charity"}
    before = await scrape(hub_client, operator)
    # The tests' breaker opens after 5 failed calls (each call tries twice).
    for _ in range(5):
        await hub_client.post("/graphql", json={"query": HOUSEHOLDS}, headers=caseworker)
    after = await scrape(hub_client, operator)

    errors = "hub_department_errors_total"
    unavailable = {**charity, "code": "SOURCE_UNAVAILABLE"}
    assert sample(after, errors, **unavailable) == (sample(before, errors, **unavailable) or 0) + 5
    retries = "hub_department_retries_total"
    assert sample(after, retries, **charity) == (sample(before, retries, **charity) or 0) + 5
    assert sample(after, "hub_department_breaker_state", **charity) == 2  # open
    assert sample(after, "hub_department_breaker_state", department="education") == 0
    calls = "hub_department_call_duration_seconds_count"
    assert sample(after, calls, **charity) == (sample(before, calls, **charity) or 0) + 5
    assert sample(after, "hub_department_calls_in_flight", **charity) == 0

    # An open breaker refuses without calling.
    await hub_client.post("/graphql", json={"query": HOUSEHOLDS}, headers=caseworker)
    refused = await scrape(hub_client, operator)
    circuit = {**charity, "code": "CIRCUIT_OPEN"}
    assert sample(refused, errors, **circuit) == (sample(after, errors, **circuit) or 0) + 1


async def test_audit_appends_are_timed_and_sized(hub_client, caseworker, operator):
    before = await scrape(hub_client, operator)
    await hub_client.post(
        "/graphql", json={"query": "{ households(first: 1) { totalCount } }"}, headers=caseworker
    )
    after = await scrape(hub_client, operator)
    for name in ("hub_audit_append_duration_seconds_count", "hub_audit_batch_size_count"):
        assert sample(after, name) == (sample(before, name) or 0) + 1
    assert (
        sample(after, "hub_audit_batch_size_sum")
        == (sample(before, "hub_audit_batch_size_sum") or 0) + 1
    )


async def test_refusals_over_the_limit_are_counted_before_authentication(hub_app, operator):
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub_app, client=("203.0.113.9", 4000)),
            base_url="http://hub",
        ) as stranger,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=hub_app), base_url="http://hub"
        ) as client,
    ):
        before = await scrape(client, operator)
        statuses = [
            (await stranger.post("/graphql", json={"query": "{ __typename }"})).status_code
            for _ in range(12)
        ]
        after = await scrape(client, operator)
    assert statuses.count(429) == 2
    stage = {"stage": "address"}
    assert (
        sample(after, "hub_rate_limited_total", **stage)
        == (sample(before, "hub_rate_limited_total", **stage) or 0) + 2
    )


async def test_sync_lag_is_the_age_of_the_newest_change_seen(hub_client, operator):
    lag = sample(await scrape(hub_client, operator), "hub_sync_lag_seconds")
    assert lag is not None
    assert lag >= 0


@asynccontextmanager
async def hub_with(engine, transport, **policy: float) -> AsyncIterator[httpx.AsyncClient]:
    """A second hub on the test's database, its departments under ``policy``."""
    from hub.app import create_app
    from tests.conftest import make_settings

    url = engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(url, **policy), transport=transport)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client,
    ):
        yield client


def charity_keys(answer: dict[str, Any], population: Population) -> int:
    """Charity is asked by ID number: the members of the households answered."""
    by_id = {h.id: h for h in population.households}
    ids = [edge["node"]["id"] for edge in answer["data"]["households"]["edges"]]
    return len({m.id_number for i in ids for m in by_id[i].members})


async def test_cache_hits_are_counted(engine, hub_app, transport, operator, caseworker, population):
    charity = transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CHARITY]}"]
    async with hub_with(engine, transport, cache_ttl=3600.0) as client:
        gql = GraphQL(client, caseworker)
        first = await gql(HOUSEHOLDS)  # fetched and kept
        before, calls = await scrape(client, operator), charity.calls
        await gql(HOUSEHOLDS)  # the same households: from the cache
        after = await scrape(client, operator)
    assert charity.calls == calls
    hits = "hub_department_cache_hits_total"
    assert sample(after, hits, department="charity") == (
        sample(before, hits, department="charity") or 0
    ) + charity_keys(first, population)


async def test_stale_hits_are_counted(engine, hub_app, transport, operator, caseworker, population):
    async with hub_with(engine, transport, stale_ttl=3600.0) as client:
        gql = GraphQL(client, caseworker)
        first = await gql(HOUSEHOLDS)  # fetched and kept, as a stand-in for a failure
        before = await scrape(client, operator)
        transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CHARITY]}"].faults.status = 503
        answer = await gql(HOUSEHOLDS)  # the same households: served stale
        after = await scrape(client, operator)
    assert answer["errors"][0]["extensions"]["stale"] is True
    stale = "hub_department_stale_hits_total"
    assert sample(after, stale, department="charity") == (
        sample(before, stale, department="charity") or 0
    ) + charity_keys(first, population)


async def test_discovery_counts_households_judged_and_alerts(hub_app, operator, hub_client):
    from hub.jobs.discovery import discover

    before = await scrape(hub_client, operator)
    report = await discover(hub_app.state.resources)
    after = await scrape(hub_client, operator)
    judged = "hub_discovery_households_judged_total"
    assert sample(after, judged) == (sample(before, judged) or 0) + report.households
    assert report.households > 0
    opened = "hub_alerts_opened_total"
    assert sample(after, opened) == (sample(before, opened) or 0) + report.tally.opened
