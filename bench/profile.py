"""A sampling profile of one process under load, with py-spy; used by ``python -m bench``.

``record`` runs ``py-spy record --format raw --gil --native`` on the process while a
load runs: collapsed stacks of the thread holding the GIL (so idle moments leave no
sample), native frames included (so the garbage collector shows). ``parse`` turns them
into self samples per function and per area (a library, the standard library, or one of
the hub's packages, told apart by each frame's file path).
py-spy needs permission to read the process's memory (ptrace); when it cannot attach,
``record`` says why instead of failing the run.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
import sysconfig
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from bench.processes import thread_cpu_seconds

T = TypeVar("T")

PROJECT = Path(__file__).resolve().parents[1]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
OWN_PACKAGES = ("hub", "schema", "adapters", "migrations", "bench")

# Top-level module (under site-packages or the standard library) → area.
AREAS = {
    "strawberry": "strawberry",
    "graphql": "graphql-core",
    "sqlalchemy": "sqlalchemy",
    "greenlet": "sqlalchemy",
    "aiosqlite": "aiosqlite / asyncpg / sqlite3",
    "asyncpg": "aiosqlite / asyncpg / sqlite3",
    "sqlite3": "aiosqlite / asyncpg / sqlite3",
    "httpx": "httpx / httpcore",
    "httpcore": "httpx / httpcore",
    "httpx_aiohttp": "httpx / httpcore",
    "aiohttp": "aiohttp",
    "multidict": "aiohttp",
    "yarl": "aiohttp",
    "propcache": "aiohttp",
    "aiohappyeyeballs": "aiohttp",
    "aiosignal": "aiohttp",
    "frozenlist": "aiohttp",
    "uvicorn": "uvicorn / starlette",
    "starlette": "uvicorn / starlette",
    "h11": "uvicorn / starlette",
    "httptools": "uvicorn / starlette",
    "anyio": "uvicorn / starlette",
    "uvloop": "uvicorn / starlette",
    "json": "json",
    "orjson": "json",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "asyncio": "asyncio",
    "redis": "redis",
    "cryptography": "cryptography",
    "tenacity": "tenacity",
}

RATE = 250  # samples per second

# Leaves where the event loop itself runs: with uvloop the loop is C code below these
# frames (its callbacks, timers and sockets), which py-spy charges to them.
EVENT_LOOP = "event loop (uvloop, C)"
_LOOP_LEAVES = {
    "asyncio/runners.py": ("run", "Runner.run"),
    "asyncio/base_events.py": ("run_until_complete", "BaseEventLoop.run_until_complete"),
}

# The cyclic garbage collector, seen with --native: it runs inside whatever allocation
# crossed its threshold, so without this its time lands on unrelated functions.
GARBAGE_COLLECTOR = "(cyclic garbage collector)"
SERVE = "serve (hub/cli.py)"  # the outermost frame of ours in the hub's process
_GC_FRAME = "gc_collect_main ("

_FRAME = re.compile(r"^(?P<name>.*) \((?P<path>.*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Profile:
    samples: int
    functions: list[tuple[str, int]]  # (function, self samples), most first
    areas: list[tuple[str, int]]  # (area, self samples), most first
    # (function of the hub's own packages, samples): each sample counted for the deepest
    # frame of ours on its stack, i.e. the library work a function of ours asked for.
    ours: list[tuple[str, int]] = field(default_factory=list)
    seconds: float = 0.0  # how long py-spy sampled
    # Cores the process's main thread (the event loop) and its other threads (SQLite's
    # workers, the resolver's) used while it was profiled, from /proc; None if unknown.
    threads: tuple[float, float] | None = None

    @property
    def busy_threads(self) -> float:
        """Threads py-spy found busy per sampling tick, on average."""
        return self.samples / (RATE * self.seconds) if self.seconds else 0.0


def _where(path: str) -> tuple[str, str]:
    """(area, short path) of a frame's file."""
    if "/site-packages/" in path:
        short = path.split("/site-packages/", 1)[1]
        top = re.split(r"[/.]", short, maxsplit=1)[0]
        return AREAS.get(top, "other libraries"), short
    resolved = Path(path)
    if resolved.is_relative_to(PROJECT):
        short = str(resolved.relative_to(PROJECT))
        top = short.split("/", 1)[0]
        return (f"{top} (ours)" if top in OWN_PACKAGES else "other"), short
    if resolved.is_relative_to(STDLIB):
        short = str(resolved.relative_to(STDLIB))
        top = re.split(r"[/.]", short, maxsplit=1)[0]
        return AREAS.get(top, "standard library (other)"), short
    return "other", path


def parse(raw: str) -> Profile:
    """Self samples per function and per area from py-spy's raw (collapsed) output.

    The stacks may hold native frames (``--native``): a sample inside the cyclic garbage
    collector counts as the collector's, whatever allocation set it off; any other
    sample counts for its deepest Python frame (native frames below it, such as a C
    extension's, are charged to it as a profile without them would).
    """
    functions: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = stack.split(";")
        if any(name.startswith(_GC_FRAME) for name in names):
            functions[GARBAGE_COLLECTOR] += count
            areas[GARBAGE_COLLECTOR] += count
            continue
        frames = [m for m in map(_FRAME.match, names) if m and _python(m["path"])]
        if not frames:  # a thread caught with no Python frame
            functions["(no Python frame)"] += count
            areas["other"] += count
            continue
        leaf = frames[-1]
        area, short = _where(leaf["path"])
        if leaf["name"] in _LOOP_LEAVES.get(short, ()):
            area = EVENT_LOOP
        # Generated code (a dataclass's __init__ from "<string>", attrs' methods)
        # belongs to the area of the nearest caller with a file.
        caller = next((m for m in reversed(frames) if m["path"].startswith("/")), None)
        if not leaf["path"].startswith("/") and caller is not None:
            area = _where(caller["path"])[0]
        functions[f"{leaf['name']} ({short})"] += count
        areas[area] += count
        deepest = next((m for m in reversed(frames) if _ours(m["path"])), None)
        if deepest is not None:
            ours[f"{deepest['name']} ({_where(deepest['path'])[1]})"] += count
    return Profile(total, functions.most_common(), areas.most_common(), ours.most_common())


def _python(path: str) -> bool:
    """A Python frame's file (or generated code's ``<string>``), not a native one's."""
    return path.endswith(".py") or path.startswith("<")


def _ours(path: str) -> bool:
    return path.startswith("/") and _where(path)[0].endswith("(ours)")


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(
    pid: int,
    seconds: int,
    load: Callable[[float], Awaitable[T]],
    *,
    rate: int = RATE,
    keep: Path | None = None,
) -> tuple[Profile | str, T | None]:
    """Profile ``pid`` for ``seconds`` while ``load(seconds + 1)`` runs.

    Gives the profile, or a sentence saying why there is none, and what the load gave;
    ``keep`` is where to copy py-spy's collapsed stacks (e.g. for a flame graph).
    """
    py_spy = _py_spy()
    if py_spy is None:
        return "no profile: py-spy is not installed (pip install -e '.[test]')", None
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "profile.txt"
        try:
            spy = await _start(py_spy, pid, output, seconds, rate)
        except OSError as exc:
            return f"no profile: py-spy did not start ({exc})", None
        # The load starts with py-spy and ends after it, so every sample sees it.
        before, started = thread_cpu_seconds(pid), time.perf_counter()
        result = await load(seconds + 1)
        after, elapsed = thread_cpu_seconds(pid), time.perf_counter() - started
        threads = (
            (after[0] - before[0]) / elapsed,
            (after[1] - before[1]) / elapsed,
        )
        try:
            async with asyncio.timeout(30):
                _, err = await spy.communicate()
        except TimeoutError:
            spy.kill()
            await spy.wait()
            return "no profile: py-spy did not finish", result
        if spy.returncode != 0 or not output.exists():
            why = err.decode(errors="replace").strip().splitlines()
            return f"no profile: py-spy could not record ({why[-1] if why else spy.returncode})", (
                result
            )
        raw = output.read_text(encoding="utf-8", errors="replace")
        if keep is not None:
            await asyncio.to_thread(keep.write_text, raw, encoding="utf-8")
        return replace(parse(raw), seconds=seconds, threads=threads), result


async def _start(
    py_spy: str, pid: int, output: Path, seconds: int, rate: int
) -> asyncio.subprocess.Process:
    # Only the thread holding the GIL is sampled (--gil): the event loop, where the hub's
    # CPU goes. Without it, py-spy counts aiosqlite's worker threads, waiting on their
    # queues, as busy (a third of the samples where /proc shows them using ~1 % of a
    # core); idle moments (the loop in epoll, the GIL released) leave no sample. The
    # process is paused for each sample (no --nonblocking): a little slower, but the
    # stacks are whole, where reading a running process gave stale leaves.
    return await asyncio.create_subprocess_exec(
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--output",
        str(output),
        "--duration",
        str(seconds),
        "--rate",
        str(rate),
        "--gil",
        "--native",  # to see the garbage collector's share (see GARBAGE_COLLECTOR)
        "--full-filenames",  # to tell the hub's packages, libraries and the stdlib apart
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def rows(profile: Profile, top: int = 12) -> list[str]:
    """Markdown tables: the top functions and every area by self samples, and the
    functions of ours that the samples below them add up to."""

    def share(n: int) -> str:
        return f"{100 * n / profile.samples:.1f} %"

    lines = ["| function (self samples) | share |", "| --- | --- |"]
    lines += [f"| `{name}` | {share(n)} |" for name, n in profile.functions[:top]]
    lines += ["", "| area (self samples) | share |", "| --- | --- |"]
    lines += [f"| {area} | {share(n)} |" for area, n in profile.areas]
    if profile.ours:
        lines += [
            "",
            "| the hub's function asking for the work (deepest frame of ours) | share |",
            "| --- | --- |",
        ]
        lines += [f"| `{name}` | {share(n)} |" for name, n in profile.ours[:top]]
        if any(name.startswith(SERVE) for name, _ in profile.ours[:top]):
            lines += [
                "",
                f"(`{SERVE}`: work with no deeper frame of ours: uvicorn, the event loop and "
                "the callbacks of the department connections.)",
            ]
    return lines
