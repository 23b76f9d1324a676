"""Review schedules (动态管理) and change reports (主动报告), on hand-built households."""

import asyncio
import calendar
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from adapters import idnumber
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind
from hub.households.service import SHANGHAI
from hub.rules import default_rules
from tests.hubclient import audit_entries
from tests.scenarios import given, sync

TODAY = datetime.now(SHANGHAI).date()
RULES = default_rules()
REVIEWS = """query($id: ID!) { household(id: $id) { reviews { category cycleMonths reason
  lastReviewedOn regularDueOn nextDueOn overdue broughtForwardBy rulesVersion version }
  changeReports { id kind reportedBy reviewDueBy } } }"""
RECORD = """mutation($input: RecordReviewInput!) { recordReview(input: $input) {
  __typename ... on ReviewError { code message }
  ... on ReviewPayload { review { id outcome monthlyAmount reviewedOn }
    schedule { lastReviewedOn nextDueOn version } } } }"""
REPORT = """mutation($input: ReportChangeInput!) { reportChange(input: $input) {
  __typename ... on ReviewError { code message }
  ... on ChangeReportPayload { report { id kind reviewDueBy } reviews { category nextDueOn
    broughtForwardBy } } } }"""


def months_after(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def person(region: str, born: date, n: int) -> str:
    return idnumber.make(region, born, n)


LAST = TODAY - timedelta(days=40)  # a recent review, for every household below
WORKER = person("310115", date(1985, 3, 1), 11)  # 41: able to work
ELDER = person("310115", date(1950, 3, 1), 13)  # 76: unable to work
HOUSEHOLDS = {
    # id: (category, income stable, members, expected months)
    "H3101159100001": ("LOW_INCOME", True, [WORKER], 3),
    "H3101159100002": ("EXPENDITURE_POVERTY", True, [person("310115", date(1980, 1, 2), 15)], 3),
    "H3101159100003": ("MINIMUM_LIVING", False, [person("310115", date(1982, 5, 6), 17)], 6),
    "H3101159100004": ("MINIMUM_LIVING", True, [person("310115", date(1983, 7, 8), 19)], 12),
    "H3101159100005": ("MINIMUM_LIVING", False, [ELDER], 12),  # unstable, but nobody can work
    "H3101159100006": ("EXTREME_HARDSHIP", True, [person("310115", date(1951, 9, 9), 21)], 12),
    "H3101159100007": ("TEMPORARY", True, [person("310115", date(1990, 2, 3), 23)], None),
}


def scenario(extra_member: str | None = None) -> str:
    lines = ["households:"]
    for household_id, (category, stable, members, _) in HOUSEHOLDS.items():
        lines += [f"  - id: {household_id}", "    street: 花木街道", "    members:"]
        people = members + ([extra_member] if extra_member and household_id.endswith("1") else [])
        for i, member in enumerate(people):
            lines += [f'      - id_number: "{member}"', f"        name: 王{i}"]
            if i:
                lines.append("        relation: SPOUSE")
        lines += [
            "    enrollments:",
            f"      - category: {category}",
            f"        income_stable: {str(stable).lower()}",
            f"        last_reviewed_on: {LAST.isoformat()}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
async def households(hub_app, transport) -> None:
    await given(hub_app, transport, scenario())


async def _reviews(gql: Any, household_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql(REVIEWS, id=household_id))["data"]["household"]
    return found


@pytest.mark.parametrize("household_id", sorted(HOUSEHOLDS))
async def test_each_enrollment_is_reviewed_on_the_cycle_its_rule_sets(
    household_id, gql, households
):
    category, _, _, months = HOUSEHOLDS[household_id]
    found = (await _reviews(gql, household_id))["reviews"]
    if months is None:  # 临时救助 is one-off: never reviewed
        assert found == []
        return
    (review,) = found
    assert (review["category"], review["cycleMonths"]) == (category, months)
    assert review["lastReviewedOn"] == LAST.isoformat()
    due = months_after(LAST, months)
    assert review["regularDueOn"] == review["nextDueOn"] == due.isoformat()
    assert review["overdue"] is (due < TODAY)
    assert review["rulesVersion"] == RULES.version
    # The reason says which rule set the cycle, in the policy's words.
    assert "复核" in review["reason"]


async def test_a_review_restarts_the_cycle_from_the_day_it_was_done(gql, households, hub_sessions):
    household_id = "H3101159100003"  # 低保, unstable income, able to work: six months
    before = (await _reviews(gql, household_id))["reviews"][0]
    done = await gql(
        RECORD,
        input={
            "householdId": household_id,
            "category": "MINIMUM_LIVING",
            "reviewedOn": TODAY.isoformat(),
            "outcome": "AMOUNT_CHANGED",
            "monthlyAmount": "1200.00",
            "note": "家访: income from casual work",
            "version": before["version"],
        },
    )
    result = done["data"]["recordReview"]
    assert result["__typename"] == "ReviewPayload"
    assert result["review"]["outcome"] == "AMOUNT_CHANGED"
    assert result["review"]["monthlyAmount"] == "1200.00"
    assert result["schedule"]["lastReviewedOn"] == TODAY.isoformat()
    assert result["schedule"]["nextDueOn"] == months_after(TODAY, 6).isoformat()
    assert result["schedule"]["version"] == before["version"] + 1
    entry = (await audit_entries(hub_sessions))[-1]
    assert (entry.operation, entry.households, entry.outcome) == (
        "mutation",
        f'["{household_id}"]',
        "GRANTED",
    )
    # Recorded against what was read: a second change with the old version is refused.
    stale = await gql(
        RECORD,
        input={
            "householdId": household_id,
            "category": "MINIMUM_LIVING",
            "reviewedOn": TODAY.isoformat(),
            "outcome": "CONTINUED",
            "version": before["version"],
        },
    )
    assert stale["data"]["recordReview"]["code"] == "CONFLICT"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"category": "LOW_INCOME"}, "NOT_ENROLLED"),
        ({"outcome": "AMOUNT_CHANGED"}, "INVALID_AMOUNT"),
        ({"monthlyAmount": "100.00"}, "INVALID_AMOUNT"),
        ({"reviewedOn": (TODAY + timedelta(days=1)).isoformat()}, "INVALID_DATE"),
        ({"householdId": "H3101019999999"}, "HOUSEHOLD_NOT_FOUND"),
    ],
)
async def test_a_review_that_cannot_be_recorded_says_why(change, code, gql, households):
    review = {
        "householdId": "H3101159100004",
        "category": "MINIMUM_LIVING",
        "reviewedOn": TODAY.isoformat(),
        "outcome": "CONTINUED",
        **change,
    }
    result = (await gql(RECORD, input=review))["data"]["recordReview"]
    assert (result["__typename"], result["code"]) == ("ReviewError", code)


async def test_only_civil_affairs_records_reviews_and_changes(as_client, households):
    health = await as_client(ClientKind.AGENCY, department=Source.HEALTH_INSURANCE)
    review = {
        "householdId": "H3101159100004",
        "category": "MINIMUM_LIVING",
        "reviewedOn": TODAY.isoformat(),
        "outcome": "CONTINUED",
    }
    assert (await health(RECORD, input=review))["data"]["recordReview"]["code"] == "NOT_ALLOWED"
    change = {"householdId": "H3101159100004", "kind": "OTHER", "occurredOn": TODAY.isoformat()}
    assert (await health(REPORT, input=change))["data"]["reportChange"]["code"] == "NOT_ALLOWED"


async def test_a_reported_change_brings_the_review_forward(gql, households):
    household_id = "H3101159100006"  # 特困: yearly, due in about ten months
    result = (
        await gql(
            REPORT,
            input={
                "householdId": household_id,
                "kind": "INCOME_CHANGE",
                "occurredOn": (TODAY - timedelta(days=3)).isoformat(),
                "note": "got a pension",
            },
        )
    )["data"]["reportChange"]
    within = TODAY + timedelta(days=RULES.change_report.review_within_days)
    assert result["report"]["reviewDueBy"] == within.isoformat()
    (review,) = result["reviews"]
    assert review["nextDueOn"] == within.isoformat()
    assert review["broughtForwardBy"] == result["report"]["id"]
    seen = await _reviews(gql, household_id)
    assert seen["changeReports"][0]["kind"] == "INCOME_CHANGE"
    assert seen["reviews"][0]["regularDueOn"] == months_after(LAST, 12).isoformat()


async def test_a_change_never_puts_a_review_later_than_it_was(gql, households):
    household_id = "H3101159100001"  # quarterly: due before the change's window ends?
    regular = (await _reviews(gql, household_id))["reviews"][0]["nextDueOn"]
    result = (
        await gql(
            REPORT,
            input={"householdId": household_id, "kind": "OTHER", "occurredOn": str(TODAY)},
        )
    )["data"]["reportChange"]
    within = TODAY + timedelta(days=RULES.change_report.review_within_days)
    assert result["reviews"][0]["nextDueOn"] == min(date.fromisoformat(regular), within).isoformat()


async def test_a_change_arriving_through_the_feed_brings_the_review_forward_on_its_own(
    gql, hub_app, transport, households
):
    from adapters.sandbox.loading import load_scenario
    from adapters.sandbox.scenario import parse_scenario

    newborn = person("310115", TODAY - timedelta(days=20), 31)
    load_scenario(transport.apps, parse_scenario(scenario(extra_member=newborn)))
    report = await sync(hub_app)
    assert report.changes_reported == 1
    seen = await _reviews(gql, "H3101159100001")
    assert [(c["kind"], c["reportedBy"]) for c in seen["changeReports"]] == [
        ("MEMBER_JOINED", "FEED")
    ]
    within = TODAY + timedelta(days=RULES.change_report.review_within_days)
    assert date.fromisoformat(seen["reviews"][0]["nextDueOn"]) <= within
    # Nothing else changed, so a second sync reports nothing.
    assert (await sync(hub_app)).changes_reported == 0


DUE = """query($before: Date!, $district: District, $first: Int, $after: String) {
  reviewsDue(before: $before, filter: {district: $district}, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { category nextDueOn household { id } } } } }"""


async def test_reviews_due_are_listed_soonest_first_a_page_at_a_time(gql, households):
    before = months_after(LAST, 12) + timedelta(days=1)
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(DUE, before=before.isoformat(), first=2, after=after))["data"][
            "reviewsDue"
        ]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    ours = [n for n in seen if n["household"]["id"] in HOUSEHOLDS]
    assert len(ours) == 6  # every household but the one-off 临时救助
    dues = [n["nextDueOn"] for n in seen]
    assert dues == sorted(dues)
    assert all(d < before.isoformat() for d in dues)


async def test_reviews_due_stay_within_the_callers_area(as_client, households):
    from adapters.vocabulary import District

    elsewhere = await as_client(
        ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=District.HUANGPU
    )
    before = months_after(LAST, 12) + timedelta(days=1)
    page = (await elsewhere(DUE, before=before.isoformat(), first=100))["data"]["reviewsDue"]
    assert not [e for e in page["edges"] if e["node"]["household"]["id"] in HOUSEHOLDS]


async def test_a_change_retried_with_its_idempotency_key_is_recorded_once(
    gql, households, hub_sessions
):
    from sqlalchemy import func, select

    from hub.db.coordination import ChangeReport

    change = {
        "householdId": "H3101159100003",
        "kind": "EMPLOYMENT_CHANGE",
        "occurredOn": (TODAY - timedelta(days=1)).isoformat(),
        "idempotencyKey": "counter-7/2026-11-30/0042",
    }
    answers = await asyncio.gather(*(gql(REPORT, input=change) for _ in range(4)))
    results = [a["data"]["reportChange"] for a in answers]
    assert {r["__typename"] for r in results} == {"ChangeReportPayload"}, results
    assert len({r["report"]["id"] for r in results}) == 1
    async with hub_sessions() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(ChangeReport)
            .where(ChangeReport.household_id == "H3101159100003")
        )
    assert stored == 1
    other = (await gql(REPORT, input={**change, "kind": "MOVED"}))["data"]["reportChange"]
    assert other["code"] == "IDEMPOTENCY_KEY_REUSED"
    for bad in ("", " padded ", "x" * 129, "tab\there"):
        refused = await gql(REPORT, input={**change, "idempotencyKey": bad})
        assert refused["data"]["reportChange"]["code"] == "INVALID_IDEMPOTENCY_KEY", bad
    # Without a key, each report is its own.
    plain = {k: v for k, v in change.items() if k != "idempotencyKey"}
    first, second = (await gql(REPORT, input=plain), await gql(REPORT, input=plain))
    assert (
        first["data"]["reportChange"]["report"]["id"]
        != (second["data"]["reportChange"]["report"]["id"])
    )
