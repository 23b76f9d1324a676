"""Fixtures for reading what the hub logs, counts and traces."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.observability import logs
from hub.observability.departments import WATCH


class LogLines:
    """What the hub's handler wrote, as text and as decoded JSON lines."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]

    def find(self, **wanted: Any) -> list[dict[str, Any]]:
        return [r for r in self.records() if all(r.get(k) == v for k, v in wanted.items())]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """The process's logging sent through the hub's JSON handler into a buffer."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    logs.configure("json", stream=stream)
    try:
        yield LogLines(stream)
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "hub"]:
            root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)


@pytest.fixture(autouse=True)
def fresh_department_outcomes() -> None:
    """Each test judges departments by its own calls (the watch is one per process)."""
    WATCH.last.clear()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition ``text`` (None: not there)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return None


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    summed = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                summed += float(found.value)
    return summed
