"""What `make run` promises: every discovery rule has alerts in the demo, the demo's
tokens include a department that receives referrals, and its printed queries are valid."""

import signal
from datetime import date, datetime

import pytest
from graphql import parse, validate

import schema
from hub import demo
from hub.demo_access import prepare
from hub.households.service import SHANGHAI
from hub.jobs.discovery import discover
from tests.hubclient import GraphQL
from tests.scenarios import given

# The demo households' situations hold until these days (their dates are in the file).
DEMO_GOOD_UNTIL = date(2027, 1, 15)

ALERTS = """query($id: ID!) { household(id: $id) { alerts { rule state
  evidence { department summary } } } }"""


async def test_the_demo_households_show_the_two_rare_rules(hub_app, transport, gql: GraphQL):
    today = datetime.now(SHANGHAI).date()
    assert today < DEMO_GOOD_UNTIL, (
        "the demo scenario's dates have passed: move the birth date and the fire in "
        "adapters/sandbox/scenarios/demo.yaml forward, so that `hub demo` keeps showing "
        "every kind of alert"
    )
    await given(hub_app, transport, demo.DEMO_SCENARIO.read_text(encoding="utf-8"))
    await discover(hub_app.state.resources, batch_size=50)
    minor = (await gql(ALERTS, id="H3101049000006"))["data"]["household"]["alerts"]
    fire = (await gql(ALERTS, id="H3101139000007"))["data"]["household"]["alerts"]
    assert "MINOR_TURNING_ADULT" in {a["rule"] for a in minor}
    assert "DISASTER_WITHOUT_RELIEF" in {a["rule"] for a in fire}
    (relief,) = [a for a in fire if a["rule"] == "DISASTER_WITHOUT_RELIEF"]
    assert relief["evidence"]["department"] == "EMERGENCY_MANAGEMENT"


async def test_the_demo_gives_tokens_for_every_part_it_shows(hub_app, hub_client):
    access = await prepare(hub_app.state.resources)
    tokens = {
        access.caseworker_token,
        access.charity_token,
        access.auditor_token,
        access.human_resources_token,
        access.operator_token,
    }
    assert len(tokens) == 5
    assert all(t.startswith("hub_") for t in tokens)
    # The operator's token reads the metrics the demo tells how to watch.
    metrics = await hub_client.get(
        "/metrics", headers={"Authorization": f"Bearer {access.operator_token}"}
    )
    assert metrics.status_code == 200
    assert 'hub_department_breaker_state{department="charity"}' in metrics.text


def test_the_queries_the_demo_prints_are_valid():
    graphql_schema = schema.build()._schema
    for query in (
        demo.EXAMPLE,
        demo.WHOLE % "H3101010000001",
        demo.DISCLOSURES % "H3101010000001",
        demo.ALERTS,
        demo.REFER % "H3101010000001",
        demo.INCOMING,
    ):
        assert validate(graphql_schema, parse(query)) == [], query


def test_sigterm_unwinds_so_the_demo_stops_its_stand_ins():
    # uvicorn raises the signal again once it has shut down; the demo's clean-up (which
    # stops the stand-ins' process) runs only if that unwinds instead of ending the process.
    before = signal.getsignal(signal.SIGTERM)
    cleaned: list[bool] = []

    def serve_and_clean_up() -> None:
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            cleaned.append(True)

    try:
        demo.exit_on_sigterm()
        with pytest.raises(SystemExit) as stopped:
            serve_and_clean_up()
    finally:
        signal.signal(signal.SIGTERM, before)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert cleaned == [True]
