"""Proactive discovery (主动发现) on hand-built households: each rule found where it holds,
not where it does not, with its evidence; one alert per household and rule, resolved when
the rule stops holding; and what caseworkers do with alerts."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters import idnumber
from adapters.sandbox.loading import load_scenario
from adapters.sandbox.scenario import parse_scenario
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Purpose
from hub.households.service import SHANGHAI
from hub.jobs.discovery import discover
from hub.rules import default_rules
from tests.hubclient import audit_entries
from tests.scenarios import given, sync

TODAY = datetime.now(SHANGHAI).date()
RULES = default_rules()
STANDARD = RULES.standard_on(TODAY)


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def born(years: int, days: int = 0) -> date:
    """A birth date ``years`` years (and ``days`` more days) before today."""
    try:
        day = TODAY.replace(year=TODAY.year - years)
    except ValueError:  # 29 February
        day = TODAY.replace(year=TODAY.year - years, day=28)
    return day - timedelta(days=days)


_n = itertools.count(101, 2)


def person(years: int, days: int = 0) -> str:
    return idnumber.make("310115", born(years, days), next(_n))


def household(
    number: int, *, members: str, enrollments: str = "", extra: str = "", income: str = ""
) -> str:
    text = f"  - id: H31011592{number:05d}\n    street: 花木街道\n"
    if income:
        text += f"    assessed_monthly_income: {income}\n    income_assessed_on: {ago(30)}\n"
    text += "    members:\n" + members
    if enrollments:
        text += "    enrollments:\n" + enrollments
    return text + extra


def member(id_number: str, name: str, *more: str, relation: str = "") -> str:
    lines = [f'      - id_number: "{id_number}"', f"        name: {name}"]
    if relation:
        lines.append(f"        relation: {relation}")
    lines += [f"        {line}" for line in more]
    return "\n".join(lines) + "\n"


def enrolled(category: str, *more: str) -> str:
    return "\n".join([f"      - category: {category}", *(f"        {m}" for m in more)]) + "\n"


ADULT, ELDER = person(40), person(70)
CASES: dict[str, tuple[int, int]] = {}  # rule: (household that holds, household that does not)


def costs(number: int, out_of_pocket: int, *, who: str) -> str:
    return household(
        number,
        income="3000",
        members=member(who, "张一"),
        enrollments=enrolled("LOW_INCOME"),
        extra=f"""    health_insurance:
      - id_number: "{who}"
        claims:
          - settled_on: {ago(60)}
            kind: INPATIENT
            total_cost: {out_of_pocket + 1000}
            reimbursed: 1000
""",
    )


def scenario() -> str:
    parts = []
    # 支出型贫困 risk: out-of-pocket costs over half of 36,000 a year.
    parts += [costs(1, 20000, who=person(45)), costs(2, 10000, who=person(46))]
    CASES["EXPENDITURE_POVERTY_RISK"] = (1, 2)
    # 近低保, enrolled nowhere: income per person under 1.5 × the standard.
    near = STANDARD * Decimal("1.5")
    parts += [
        household(3, income=str(near - 100), members=member(person(50), "李三")),
        household(4, income=str(near + 100), members=member(person(51), "李四")),
    ]
    CASES["NEAR_MINIMUM_NOT_ENROLLED"] = (3, 4)
    # 零就业家庭.
    for number, status in ((5, "REGISTERED_UNEMPLOYED"), (6, "EMPLOYED")):
        who = person(41)
        parts.append(
            household(
                number,
                income="500",
                members=member(who, "王五"),
                enrollments=enrolled("MINIMUM_LIVING"),
                extra=(
                    f'    human_resources:\n      - id_number: "{who}"\n        status: {status}\n'
                ),
            )
        )
    CASES["ZERO_EMPLOYMENT"] = (5, 6)
    # A 特困 minor turning 18 within the window, at school or not.
    for number, schooling in ((7, ""), (8, "schooling: SENIOR_SECONDARY")):
        more = (schooling,) if schooling else ()
        parts.append(
            household(
                number,
                members=member(person(18, days=-30), "赵七", *more),
                enrollments=enrolled("EXTREME_HARDSHIP"),
            )
        )
    CASES["MINOR_TURNING_ADULT"] = (7, 8)
    # A student of an assisted household, with aid or without.
    for number, aid in ((9, ""), (10, "aid:\n          - kind: GRANT\n            amount: 1000\n")):
        parent, child = person(38), person(9)
        extra = f'    education:\n      - id_number: "{child}"\n'
        extra += f"        {aid}" if aid else ""
        parts.append(
            household(
                number,
                members=member(parent, "钱九")
                + member(child, "钱小九", "schooling: PRIMARY", relation="CHILD"),
                enrollments=enrolled("MINIMUM_LIVING"),
                extra=extra,
            )
        )
    CASES["STUDENT_WITHOUT_AID"] = (9, 10)
    # A home badly damaged three weeks ago, with transitional relief or without.
    for number, relief in (
        (11, ""),
        (12, "          - stage: TRANSITIONAL\n            amount: 800\n"),
    ):
        parts.append(
            household(
                number,
                members=member(person(55), "孙十一"),
                extra=f"""    emergency_management:
      - event:
          type: FLOOD
          occurred_on: {ago(21)}
        damage_level: SEVERE
        relief:
          - stage: EMERGENCY
            amount: 3000
{relief}""",
            )
        )
    CASES["DISASTER_WITHOUT_RELIEF"] = (11, 12)
    # Crowded housing without low-rent housing, or with it.
    for number, low_rent in (
        (13, ""),
        (14, "        low_rent: {since: 2024-03-01, monthly_rent_subsidy: 900}\n"),
    ):
        a, b, c = person(44), person(42), person(12)
        parts.append(
            household(
                number,
                members=member(a, "周十三")
                + member(b, "吴十三", relation="SPOUSE")
                + member(c, "周小十三", relation="CHILD"),
                extra=f"""    housing:
      - tenure: PRIVATE_RENTAL
        floor_area: 30
{low_rent}""",
            )
        )
    CASES["HOUSING_HARDSHIP"] = (13, 14)
    # A severely disabled member out of work, paid the care subsidy or not.
    for number, subsidy in ((15, "care_subsidy: null"), (16, "care_subsidy: 410")):
        parts.append(
            household(
                number,
                members=member(person(35), "郑十五", "disability_grade: 1", subsidy),
            )
        )
    CASES["DISABILITY_WITHOUT_CARE_SUBSIDY"] = (15, 16)
    # A review due last month and not recorded, or recorded in time.
    for number, reviewed in ((17, ago(400)), (18, ago(30))):
        parts.append(
            household(
                number,
                members=member(ELDER if number == 17 else person(71), "冯十七"),
                enrollments=enrolled(
                    "MINIMUM_LIVING", "income_stable: true", f"last_reviewed_on: {reviewed}"
                ),
            )
        )
    CASES["REVIEW_OVERDUE"] = (17, 18)
    # 救助渐退: work found five and a half months ago (the grace period of six ends within
    # 30 days), or one month ago; income per person now over the standard.
    for number, started in ((19, 167), (20, 30)):
        who = person(33)
        parts.append(
            household(
                number,
                income=str(STANDARD + 800),
                members=member(who, "陈十九"),
                enrollments=enrolled("MINIMUM_LIVING", "monthly_amount: 600"),
                extra=f"""    human_resources:
      - id_number: "{who}"
        status: EMPLOYED
        employed_since: {ago(started)}
""",
            )
        )
    CASES["WITHDRAWAL_ENDING"] = (19, 20)
    return "households:\n" + "".join(parts)


SCENARIO = scenario()  # once: the same people in every test
ALERTS = """query($id: ID!) { household(id: $id) { alerts { id rule state version
  evidence { department fact summary value threshold rulesVersion } } } }"""


@pytest.fixture
async def found(hub_app, transport) -> dict[str, list[dict[str, Any]]]:
    await given(hub_app, transport, SCENARIO)
    await discover(hub_app.state.resources, batch_size=7)
    return {}


def hid(number: int) -> str:
    return f"H31011592{number:05d}"


async def _alerts(gql: Any, number: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await gql(ALERTS, id=hid(number)))["data"]["household"]["alerts"]
    return found


RULE_NAMES = sorted(
    [
        "EXPENDITURE_POVERTY_RISK",
        "NEAR_MINIMUM_NOT_ENROLLED",
        "ZERO_EMPLOYMENT",
        "MINOR_TURNING_ADULT",
        "STUDENT_WITHOUT_AID",
        "DISASTER_WITHOUT_RELIEF",
        "HOUSING_HARDSHIP",
        "DISABILITY_WITHOUT_CARE_SUBSIDY",
        "REVIEW_OVERDUE",
        "WITHDRAWAL_ENDING",
    ]
)


@pytest.mark.parametrize("rule", RULE_NAMES)
async def test_each_rule_is_found_where_it_holds_and_not_where_it_does_not(rule, gql, found):
    holds, does_not = CASES[rule]
    positive = [a for a in await _alerts(gql, holds) if a["rule"] == rule]
    negative = [a for a in await _alerts(gql, does_not) if a["rule"] == rule]
    assert len(positive) == 1, await _alerts(gql, holds)
    assert negative == []
    (alert,) = positive
    assert alert["state"] == "OPEN"
    evidence = alert["evidence"]
    assert evidence["rulesVersion"] == RULES.version
    assert evidence["summary"]
    # Words for a caseworker: the policy's term and no ID number.
    assert not any(ch.isdigit() for ch in evidence["summary"].split("(")[0][:3])


async def test_the_evidence_gives_the_figure_and_the_rules_line(gql, as_client, found):
    review = await as_client(
        ClientKind.AGENCY, Purpose.ELIGIBILITY_REVIEW, department=Source.CIVIL_AFFAIRS
    )
    rule = "EXPENDITURE_POVERTY_RISK"
    (alert,) = [a for a in await _alerts(review, 1) if a["rule"] == rule]
    assert Decimal(alert["evidence"]["value"]) == Decimal("20000.00")
    share = RULES.expenditure_poverty.medical_share_of_income
    assert Decimal(alert["evidence"]["threshold"]) == (Decimal(3000) * 12 * share)
    assert alert["evidence"]["department"] == "HEALTH_INSURANCE"
    # Managing a case, income figures are banded; reaching out, they are not shown at all.
    (banded,) = [a for a in await _alerts(gql, 1) if a["rule"] == rule]
    assert banded["evidence"]["value"] == "20000-25000"
    outreach = await as_client(
        ClientKind.AGENCY, Purpose.PROACTIVE_OUTREACH, department=Source.CIVIL_AFFAIRS
    )
    seen = await outreach(ALERTS, id=hid(1))
    assert {e["extensions"]["code"] for e in seen["errors"]} == {"FIELD_WITHHELD"}


async def test_a_second_round_keeps_one_alert_per_household_and_rule(hub_app, gql, found):
    before = {a["id"] for n in range(1, 21) for a in await _alerts(gql, n)}
    again = await discover(hub_app.state.resources, batch_size=50)
    assert again.tally.opened == 0
    after = {a["id"] for n in range(1, 21) for a in await _alerts(gql, n)}
    assert after == before


async def test_an_alert_is_resolved_when_its_rule_stops_holding(hub_app, transport, gql, found):
    (alert,) = [a for a in await _alerts(gql, 5) if a["rule"] == "ZERO_EMPLOYMENT"]
    # The member of household 5 found work: human resources now says so.
    text = SCENARIO.replace(
        "status: REGISTERED_UNEMPLOYED", "status: EMPLOYED\n        employed_since: " + ago(3)
    )
    load_scenario(transport.apps, parse_scenario(text))
    await sync(hub_app)
    report = await discover(hub_app.state.resources, batch_size=50)
    assert report.tally.resolved >= 1
    assert [a for a in await _alerts(gql, 5) if a["rule"] == "ZERO_EMPLOYMENT"] == []
    listed = await gql(
        """{ alerts(filter: {rule: ZERO_EMPLOYMENT, state: RESOLVED}, first: 50) {
        edges { node { id resolvedAt } } } }"""
    )
    resolved = [e["node"] for e in listed["data"]["alerts"]["edges"]]
    assert alert["id"] in {n["id"] for n in resolved}


async def test_a_department_that_is_down_neither_opens_nor_resolves(hub_app, transport, gql, found):
    from tests.conftest import faults

    before = await _alerts(gql, 13)
    faults(transport, Source.HOUSING).update({"down": True})
    report = await discover(hub_app.state.resources, batch_size=50)
    assert report.unavailable.get("housing", 0) > 0
    assert await _alerts(gql, 13) == before


ACK = """mutation($id: ID!, $v: Int) { acknowledgeAlert(id: $id, version: $v) {
  __typename ... on AlertPayload { alert { state version } } ... on AlertError { code } } }"""
DISMISS = """mutation($id: ID!, $reason: String!, $v: Int) {
  dismissAlert(id: $id, reason: $reason, version: $v) {
  __typename ... on AlertPayload { alert { state dismissedReason } }
  ... on AlertError { code } } }"""


async def test_caseworkers_acknowledge_and_dismiss_alerts(hub_app, gql, hub_sessions, found):
    (alert,) = [a for a in await _alerts(gql, 13) if a["rule"] == "HOUSING_HARDSHIP"]
    acked = (await gql(ACK, id=alert["id"], v=alert["version"]))["data"]["acknowledgeAlert"]
    assert acked["alert"]["state"] == "ACKNOWLEDGED"
    stale = (await gql(DISMISS, id=alert["id"], reason="x", v=alert["version"]))["data"]
    assert stale["dismissAlert"]["code"] == "CONFLICT"
    empty = (await gql(DISMISS, id=alert["id"], reason=" "))["data"]["dismissAlert"]
    assert empty["code"] == "REASON_REQUIRED"
    done = (await gql(DISMISS, id=alert["id"], reason="family moving to relatives"))["data"]
    assert done["dismissAlert"]["alert"] == {
        "state": "DISMISSED",
        "dismissedReason": "family moving to relatives",
    }
    again = (await gql(ACK, id=alert["id"]))["data"]["acknowledgeAlert"]
    assert again["code"] == "ILLEGAL_TRANSITION"
    # Dismissed, it stays so while the rule holds: discovery opens no second one.
    await discover(hub_app.state.resources, batch_size=50)
    states = [a["state"] for a in await _alerts(gql, 13) if a["rule"] == "HOUSING_HARDSHIP"]
    assert states == ["DISMISSED"]
    assert any(e.operation == "job:discover" for e in await audit_entries(hub_sessions))


async def test_alerts_are_for_agencies_only(as_client, found):
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-a")
    result = await charity("{ alerts(first: 5) { edges { node { id } } } }")
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_discovery_reads_are_audited_as_the_hubs_own(hub_sessions, found):
    entries = [e for e in await audit_entries(hub_sessions) if e.operation == "job:discover"]
    assert entries
    assert all(e.client_id is None and e.purpose == "PROACTIVE_OUTREACH" for e in entries)
    assert any(hid(1) in e.households for e in entries)
