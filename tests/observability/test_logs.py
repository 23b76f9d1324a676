"""Log lines: structured, with the request's context, and never a personal value."""

from __future__ import annotations

import io
import logging

import pytest

from hub.observability import logs
from tests.observability.conftest import LogLines

ID_NUMBER = "31011519850315123X"
OLD_ID_NUMBER = "310115850315123"
MOBILE = "13912345678"
VALID_ID = "310115198503151230"  # passes every check of adapters/idnumber.py
LANDLINE = "021-62345678"
CHARITY = "{ households(first: 2) { edges { node { id charity { totalAmount } } } } }"


@pytest.mark.parametrize(
    ("text", "left"),
    [
        (f"lookup of {ID_NUMBER} failed", "lookup of [id-number] failed"),
        (f"id={ID_NUMBER.lower()}", "id=[id-number]"),
        (f"old card {OLD_ID_NUMBER}", "old card [id-number]"),
        (f"Q{ID_NUMBER}", "Q[id-number]"),  # a number pasted into an operation name
        (f"call {MOBILE} now", "call [phone] now"),
        ("call +86 139-1234-5678", "call [phone]"),
        (f"office {LANDLINE}", "office [phone]"),
        ("office (021)62345678", "office [phone]"),
        ("{'name': '张三', 'age': 40}", "{'name': [name], 'age': 40}"),
        ('{"full_name": "Zhang San"}', '{"full_name": [name]}'),
        ("姓名：李四，住址", "姓名：[name]，住址"),
        ("member_name=王五 seq=3", "member_name=[name] seq=3"),
    ],
)
def test_personal_values_are_scrubbed_from_text(text, left):
    assert logs.scrub_text(text) == left


@pytest.mark.parametrize(
    "text",
    [
        "took 12.0123456789 s",  # a fraction, not a landline
        "household H3101150000042, district 310115",
        "seq 1234567 and 2026-11-30T08:00:00Z",
        "operation_name=HouseholdView client_name=pudong-mz",
        "a number of 19 digits 3101151985031512345 is no ID number",
    ],
)
def test_what_is_not_personal_is_left_alone(text):
    assert logs.scrub_text(text) == text


def test_the_hubs_own_ids_survive_scrubbing():
    request_id = "310115198503151234" + "ab" * 7  # hex that happens to start with 18 digits
    text = f"request {request_id}: lookup of {ID_NUMBER}"
    left = logs.scrub_text(text, keep=[request_id])
    assert left == f"request {request_id}: lookup of [id-number]"


def test_an_exception_carrying_an_id_number_and_a_phone_is_logged_without_them(log_lines):
    failing = logging.getLogger("hub.somewhere")
    try:
        raise ValueError(f"no person {ID_NUMBER} (phone {MOBILE}, 姓名：张三)")
    except ValueError:
        failing.exception("lookup failed for %s", ID_NUMBER)

    text = log_lines.text
    assert ID_NUMBER[:17] not in text
    assert MOBILE not in text
    assert "张三" not in text
    (line,) = log_lines.find(event="lookup failed for [id-number]")
    assert line["level"] == "error"
    assert line["logger"] == "hub.somewhere"
    # The traceback is there, readable, with the exception's type and scrubbed message.
    assert "Traceback" in line["exception"]
    assert "ValueError: no person [id-number] (phone [phone], 姓名：[name])" in line["exception"]


def test_structured_values_and_name_fields_are_scrubbed(log_lines):
    logs.get_logger("hub.test").info(
        "found", name="张三", member={"full_name": "李四", "phone": MOBILE}, ids=[ID_NUMBER]
    )
    (line,) = log_lines.find(event="found")
    assert line["name"] == "[name]"
    assert line["member"] == {"full_name": "[name]", "phone": "[phone]"}
    assert line["ids"] == ["[id-number]"]


def test_a_handler_not_the_hubs_gets_scrubbed_records_too(log_lines, caplog):
    caplog.set_level(logging.INFO)
    try:
        raise RuntimeError(f"card {ID_NUMBER}")
    except RuntimeError:
        logging.getLogger("hub.elsewhere").exception("person %s", ID_NUMBER)
    assert ID_NUMBER not in caplog.text
    assert "person [id-number]" in caplog.text
    assert "RuntimeError: card [id-number]" in caplog.text


def test_development_lines_are_readable_and_scrubbed():
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("console", stream=stream)
    try:
        logging.getLogger("hub.dev").warning("no answer for %s", ID_NUMBER)
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "hub"]:
            root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)
    line = stream.getvalue()
    assert not line.startswith("{")
    assert "no answer for [id-number]" in line
    assert "warning" in line
    assert "hub.dev" in line


def test_the_format_follows_the_mode_unless_forced():
    assert logs.log_format(development=False, forced=None) == "json"
    assert logs.log_format(development=True, forced=None) == "console"
    assert logs.log_format(development=True, forced="json") == "json"


async def test_every_request_has_one_access_line_with_its_context(
    log_lines: LogLines, hub_client, caseworker, population
):
    household = population.households[0]
    response = await hub_client.post(
        "/graphql",
        json={
            "query": "query CaseView($id: ID!) "
            "{ household(id: $id) { id civilAffairs { address } } }",
            "variables": {"id": household.id},
        },
        headers=caseworker,
    )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]

    (access,) = log_lines.find(event="request", request_id=request_id)
    assert access["level"] == "info"
    assert access["client"].startswith("agency-")
    assert access["client_kind"] == "AGENCY"
    assert access["purpose"] == "CASE_MANAGEMENT"
    assert access["operation"] == "CaseView"
    assert access["root_field"] == "household"
    assert access["outcome"] == "ok"
    assert access["status"] == 200
    assert access["duration_ms"] > 0
    # No member's ID number, name or address reached the log.
    for member in household.members:
        assert member.id_number not in log_lines.text
        assert member.name not in log_lines.text


async def test_lines_logged_during_a_request_carry_its_context(
    log_lines: LogLines, hub_client, caseworker, transport
):
    from adapters.vocabulary import Source
    from hub.settings import SANDBOX_PORTS

    transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CHARITY]}"].faults.status = 503
    response = await hub_client.post(
        "/graphql",
        json={"query": CHARITY},
        headers=caseworker,
    )
    request_id = response.headers["x-request-id"]
    lines = log_lines.find(request_id=request_id)
    assert len(lines) >= 2  # the schema's note of the error, and the access line
    for line in lines:
        assert line["client_kind"] == "AGENCY"
        assert line["purpose"] == "CASE_MANAGEMENT"
        assert line["operation"] == "households"
    (access,) = [line for line in lines if line["event"] == "request"]
    assert access["outcome"] == "partial"
    assert access["codes"] == ["SOURCE_UNAVAILABLE"]


async def test_a_refusal_at_the_door_is_one_access_line_with_its_code(log_lines, hub_client):
    response = await hub_client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 401
    (access,) = log_lines.find(event="request", request_id=response.headers["x-request-id"])
    assert access["outcome"] == "refused"
    assert access["codes"] == ["UNAUTHENTICATED"]
    assert access["root_field"] == "none"
    assert "client" not in access


def test_the_runs_watch_flags_a_line_with_an_id_number_and_nothing_else():
    from tests.logcheck import IdNumberWatch

    watch = IdNumberWatch()

    def emit(message: str) -> None:
        # Made directly, not through the (scrubbing) record factory: as a stray line would be.
        watch.handle(logging.LogRecord("hub.x", logging.INFO, __file__, 1, message, None, None))

    emit("request 3101151985031512ab34cd, hash 9f86d081884c7d659a2feaa0c55ad015")
    emit("seq 1234567, household H3101150000042, 310115198503151231 (a bad check digit)")
    assert watch.found == []
    emit(f"lookup of {VALID_ID} failed")
    assert watch.found == ["INFO hub.x: lookup of <ID number> failed"]


async def test_an_unexpected_failure_is_one_error_line_and_a_coded_500(log_lines: LogLines):
    import httpx
    from starlette.types import Receive, Scope, Send

    from hub.observability.requests import ObservedRequests

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError(f"no household for {VALID_ID}")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ObservedRequests(broken)), base_url="http://hub"
    ) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})

    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    (failure,) = log_lines.find(event="unexpected error")
    assert failure["level"] == "error"
    assert "RuntimeError: no household for [id-number]" in failure["exception"]
    (access,) = log_lines.find(event="request")
    assert access["level"] == "error"
    assert access["outcome"] == "failed"
    assert access["status"] == 500
    assert access["codes"] == ["INTERNAL_SERVER_ERROR"]
    assert VALID_ID not in log_lines.text
