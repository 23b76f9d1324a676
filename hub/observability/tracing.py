"""Traces with OpenTelemetry: a span per request, per department call, per statement.

Tracing is on only when the standard variables ask for it (``configure``): an OTLP
endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``..._TRACES_ENDPOINT``) or
``OTEL_TRACES_EXPORTER=otlp`` (or ``console``, for a look on a development machine);
``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` keep it off. Off, the hub does
no span work at all: every hook asks ``enabled()`` first, and the database gets no hooks.

Spans carry no personal values: names are operation labels, department endpoints
(fixed paths) and statements as the hub wrote them (parameters never). The W3C
``traceparent`` of a client becomes the request span's parent, and every department call
sends its own (``hub.observability.departments``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

SERVICE_NAME = "assistance-hub"
_PROPAGATOR = TraceContextTextMapPropagator()
_tracer: Tracer | None = None  # None: tracing is off


def enabled() -> bool:
    return _tracer is not None


def use(provider: TracerProvider | None) -> None:
    """Trace into ``provider`` from now on (None: stop tracing)."""
    global _tracer
    _tracer = provider.get_tracer("hub") if provider is not None else None


def wanted(environ: Mapping[str, str]) -> str | None:
    """The exporter the standard variables ask for ("otlp", "console"), or None."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = [e.strip().lower() for e in environ.get("OTEL_TRACES_EXPORTER", "").split(",")]
    named = [e for e in named if e]
    if named:
        for exporter in named:
            if exporter in ("otlp", "console"):
                return exporter
        return None
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    return "otlp" if endpoint else None


def configure(environ: Mapping[str, str]) -> bool:
    """Turn tracing on if the environment asks for it (once per process); whether on."""
    if _tracer is not None:
        return True
    exporter_name = wanted(environ)
    if exporter_name is None:
        return False
    exporter: SpanExporter
    if exporter_name == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_* variables
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    # The sampler comes from OTEL_TRACES_SAMPLER; spans still queued are flushed at exit.
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    use(provider)
    log.info("tracing on: spans exported by %s", exporter_name)
    return True


def current_ids() -> tuple[str, str] | None:
    """The active span's trace and span id in hex, if tracing is on and a span is active."""
    if _tracer is None:
        return None
    found = trace.get_current_span().get_span_context()
    if not found.is_valid:
        return None
    return format(found.trace_id, "032x"), format(found.span_id, "016x")


# -- requests ----------------------------------------------------------------------------


def start_request(headers: Iterable[tuple[bytes, bytes]]) -> tuple[Span, object] | None:
    """The request's span, made current, under the client's ``traceparent`` if it sent one."""
    if _tracer is None:
        return None
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in (b"traceparent", b"tracestate")
    }
    parent = _PROPAGATOR.extract(carrier) if carrier else None
    span = _tracer.start_span("graphql", context=parent, kind=SpanKind.SERVER)
    token = otel_context.attach(trace.set_span_in_context(span))
    return span, token


def end_request(started: tuple[Span, object], attributes: Mapping[str, Any], name: str) -> None:
    span, token = started
    span.update_name(name)
    span.set_attributes(dict(attributes))
    status = attributes.get("http.response.status_code")
    if isinstance(status, int) and status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    span.end()
    otel_context.detach(token)  # type: ignore[arg-type]


# -- department calls --------------------------------------------------------------------


def start_call(name: str, attributes: Mapping[str, Any]) -> tuple[Span, dict[str, str]] | None:
    """A client span for one department call and the headers that carry it there."""
    if _tracer is None:
        return None
    span = _tracer.start_span(name, kind=SpanKind.CLIENT, attributes=dict(attributes))
    headers: dict[str, str] = {}
    _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
    return span, headers


def end_call(span: Span, attributes: Mapping[str, Any], failed: bool) -> None:
    span.set_attributes(dict(attributes))
    if failed:
        span.set_status(Status(StatusCode.ERROR))
    span.end()


# -- database statements -----------------------------------------------------------------

_SPAN = "_hub_span"
_MAX_STATEMENT = 2000


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per statement on ``engine`` (nothing at all while tracing is off)."""
    if _tracer is None:
        return
    sync_engine = engine.sync_engine
    if event.contains(sync_engine, "before_cursor_execute", _before):
        return

    event.listen(sync_engine, "before_cursor_execute", _before)
    event.listen(sync_engine, "after_cursor_execute", _after)
    event.listen(sync_engine, "handle_error", _failed)


def _before(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if _tracer is None or context is None:
        return
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    span = _tracer.start_span(
        f"{operation} {conn.engine.dialect.name}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": conn.engine.dialect.name,
            "db.operation.name": operation,
            # The statement as written, with placeholders: parameters are never recorded.
            "db.query.text": statement[:_MAX_STATEMENT],
        },
    )
    setattr(context, _SPAN, span)


def _after(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    span = getattr(context, _SPAN, None)
    if span is not None:
        span.end()
        setattr(context, _SPAN, None)


def _failed(exception_context: Any) -> None:
    context = exception_context.execution_context
    span = getattr(context, _SPAN, None) if context is not None else None
    if span is not None:
        failure = type(exception_context.original_exception).__name__
        span.set_status(Status(StatusCode.ERROR, failure))
        span.end()
        setattr(context, _SPAN, None)
