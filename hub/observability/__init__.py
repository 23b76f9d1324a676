"""Operating the hub: structured logs, Prometheus metrics, OpenTelemetry traces, health.

- ``logs``: JSON (or readable) lines with each request's context, scrubbed of personal
  data; ``configure`` is called by the ``hub`` command.
- ``metrics``: the counters, gauges and histograms, and their exposition; ``multiproc``:
  the directory that several worker processes count in.
- ``tracing``: spans per request, department call and statement, when OTEL_* asks.
- ``requests``: the door's observer of each request (context, span, access line, counts).
- ``operations``: the schema extension that names the operation and its outcome.
- ``departments``: the observer of department calls (``adapters.http.observe``).
- ``health``: ``/healthz``, ``/readyz`` and ``/metrics``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def setup(environ: Mapping[str, str] | None = None) -> None:
    """Everything a process serving (or working for) the hub observes with; idempotent.

    ``environ`` holds the standard ``OTEL_*`` variables that decide about tracing.
    """
    from adapters import http
    from hub.observability import logs, tracing
    from hub.observability.departments import WATCH

    logs.install()
    tracing.configure(os.environ if environ is None else environ)
    http.observe(WATCH)
    WATCH.prime()
