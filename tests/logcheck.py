"""No log line of a whole test run carries a citizen ID number.

A handler on the root logger sees every record of the run at INFO and above (what the
hub logs in production), formats it as any handler would (message and traceback), and
notes each line with a valid ID number in it; the run fails at its end if there is one.
Only valid numbers count (region, birth date, check character), so the hub's own hex ids
and hashes are not taken for one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from adapters.idnumber import InvalidIdNumber, parse

_SHAPE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


class IdNumberWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is logging's to report
            return
        for candidate in _SHAPE.findall(text):
            try:
                parse(candidate.upper())
            except InvalidIdNumber:
                continue
            # Reported without the number itself: the report is a log of its own.
            self.found.append(_SHAPE.sub("<ID number>", text.splitlines()[0])[:300])
            return


@pytest.fixture(scope="session", autouse=True)
def no_id_numbers_logged() -> Iterator[None]:
    root = logging.getLogger()
    watch = IdNumberWatch()
    level = root.level
    root.addHandler(watch)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(watch)
        root.setLevel(level)
    if watch.found:
        lines = "\n".join(watch.found[:20])
        pytest.fail(f"{len(watch.found)} log line(s) carried an ID number:\n{lines}")
