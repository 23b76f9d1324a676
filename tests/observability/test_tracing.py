"""Traces: a span per request, per department call and per statement, linked right."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from adapters.vocabulary import Source
from hub.observability import tracing
from tests.observability.conftest import LogLines

WHOLE_HOUSEHOLD = """
query Whole($id: ID!) {
  household(id: $id) {
    id
    members { idNumber name }
    civilAffairs { address }
    medical { totalOutOfPocket }
    education { difficulty }
    housing { dwellings { tenure } }
    employment { zeroEmployment }
    disaster { impacts { damageLevel } }
    charity { totalAmount }
  }
}
"""
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory; must come before ``hub_app`` (its engine gets the hooks)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(None)


@pytest.fixture
def sent_headers(transport) -> list[httpx.Headers]:
    """The headers of every request the stand-ins received."""
    seen: list[httpx.Headers] = []
    handle = transport.handle_async_request

    async def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        response: httpx.Response = await handle(request)
        return response

    transport.handle_async_request = recording
    return seen


def _request_span(finished: list[ReadableSpan]) -> ReadableSpan:
    (span,) = [s for s in finished if s.kind is SpanKind.SERVER]
    return span


def _department_spans(finished: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in finished if s.attributes and "hub.department" in s.attributes]


def attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_one_household_query_is_one_request_span_over_seven_department_spans(
    spans, hub_client, caseworker, population
):
    household = next(h for h in population.households if h.members)
    response = await hub_client.post(
        "/graphql",
        json={"query": WHOLE_HOUSEHOLD, "variables": {"id": household.id}},
        headers=caseworker,
    )
    assert response.status_code == 200
    assert "errors" not in response.json()

    finished = list(spans.get_finished_spans())
    request = _request_span(finished)
    assert request.name == "query household"
    assert request.parent is None
    attributes = dict(request.attributes or {})
    assert attributes["hub.client_kind"] == "AGENCY"
    assert attributes["hub.purpose"] == "CASE_MANAGEMENT"
    assert attributes["hub.outcome"] == "ok"
    assert attributes["graphql.operation.name"] == "Whole"
    assert attributes["hub.request_id"] == response.headers["x-request-id"]

    # (The first test of a run may see the sync that builds the database template too.)
    departments = [
        s for s in _department_spans(finished) if s.context.trace_id == request.context.trace_id
    ]
    assert sorted(attrs(s)["hub.department"] for s in departments) == sorted(
        s.value for s in Source
    )
    for span in departments:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == request.context.span_id
        assert span.context.trace_id == request.context.trace_id
        assert attrs(span)["http.response.status_code"] == 200
        assert attrs(span)["hub.retries"] == 0
        assert str(attrs(span)["url.template"]).startswith("/")

    statements = [
        s
        for s in finished
        if s.attributes
        and "db.query.text" in s.attributes
        and s.context.trace_id == request.context.trace_id
    ]
    assert statements, "no statement spans"
    for span in statements:
        assert span.parent is not None
        assert span.parent.span_id == request.context.span_id

    # Nothing personal in any span: names, attributes, statements.
    every_value = " ".join(f"{s.name} {dict(s.attributes or {})}" for s in finished)
    for member in household.members:
        assert member.id_number not in every_value
        assert member.name not in every_value


async def test_a_clients_traceparent_becomes_the_parent(spans, hub_client, caseworker):
    response = await hub_client.post(
        "/graphql",
        json={"query": "{ households(first: 1) { totalCount } }"},
        headers={**caseworker, "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"},
    )
    assert response.status_code == 200
    request = _request_span(list(spans.get_finished_spans()))
    assert format(request.context.trace_id, "032x") == CLIENT_TRACE
    assert request.parent is not None
    assert format(request.parent.span_id, "016x") == CLIENT_SPAN


async def test_departments_receive_the_trace_context_of_their_call(
    spans, sent_headers, hub_client, caseworker, population
):
    household = next(h for h in population.households if h.members)
    await hub_client.post(
        "/graphql",
        json={"query": WHOLE_HOUSEHOLD, "variables": {"id": household.id}},
        headers=caseworker,
    )
    finished = list(spans.get_finished_spans())
    trace_id = _request_span(finished).context.trace_id
    departments = {
        format(s.context.span_id, "016x"): s
        for s in _department_spans(finished)
        if s.context.trace_id == trace_id
    }
    sent = [
        h["traceparent"]
        for h in sent_headers
        if format(trace_id, "032x") in h.get("traceparent", "")
    ]
    assert len(sent) == len(departments) == 7
    for header in sent:
        _, trace_id, parent_id, _ = header.split("-")
        assert parent_id in departments  # the department's span is the caller
        assert trace_id == format(departments[parent_id].context.trace_id, "032x")


async def test_a_failed_department_call_is_an_error_span_with_its_code(
    spans, hub_client, caseworker, transport
):
    from hub.settings import SANDBOX_PORTS

    transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CHARITY]}"].faults.status = 503
    await hub_client.post(
        "/graphql",
        json={"query": "{ households(first: 2) { edges { node { charity { totalAmount } } } } }"},
        headers=caseworker,
    )
    (charity,) = [
        s
        for s in _department_spans(spans.get_finished_spans())
        if attrs(s)["hub.department"] == Source.CHARITY.value
    ]
    assert not charity.status.is_ok
    assert attrs(charity)["error.type"] == "SOURCE_UNAVAILABLE"
    assert attrs(charity)["http.response.status_code"] == 503
    assert attrs(charity)["hub.retries"] == 1  # the tests' policy: one retry


async def test_log_lines_carry_the_trace_of_their_request(
    spans, log_lines: LogLines, hub_client, caseworker
):
    response = await hub_client.post(
        "/graphql", json={"query": "{ households(first: 1) { totalCount } }"}, headers=caseworker
    )
    request = _request_span(list(spans.get_finished_spans()))
    (access,) = log_lines.find(event="request", request_id=response.headers["x-request-id"])
    assert access["trace_id"] == format(request.context.trace_id, "032x")
    assert access["span_id"] == format(request.context.span_id, "016x")


async def test_off_means_no_spans_and_no_trace_headers(
    sent_headers, log_lines: LogLines, hub_client, caseworker, population
):
    assert not tracing.enabled()
    household = next(h for h in population.households if h.members)
    response = await hub_client.post(
        "/graphql",
        json={"query": WHOLE_HOUSEHOLD, "variables": {"id": household.id}},
        headers={**caseworker, "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"},
    )
    assert response.status_code == 200
    assert sent_headers
    assert not [h for h in sent_headers if "traceparent" in h]
    (access,) = log_lines.find(event="request")
    assert "trace_id" not in access


@pytest.mark.parametrize(
    ("environ", "exporter"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": "console"}, "console"),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, None),
    ],
)
def test_the_standard_variables_decide_whether_to_trace(environ, exporter):
    assert tracing.wanted(environ) == exporter
