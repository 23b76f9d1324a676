"""The directory several worker processes keep their metrics in (prometheus-client's
multiprocess mode). The library decides at import whether a process writes its values to
files there, so the directory is named in the environment before the workers start."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics(workers: int) -> Iterator[Path | None]:
    """The shared directory for ``hub serve``, or None for one process on its own.

    ``PROMETHEUS_MULTIPROC_DIR``, when set, is used (e.g. shared with ``hub worker`` jobs
    on the same machine) and kept; with several workers and none set, a fresh temporary
    one, removed when the server stops. Either way it is emptied first: files of
    processes that ran before would be added again.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if not given and workers <= 1:
        yield None
        return
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="hub-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)  # the workers inherit it
    try:
        yield directory
    finally:
        if not given:
            del os.environ[MULTIPROC_ENV]
            shutil.rmtree(directory, ignore_errors=True)
