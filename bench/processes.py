"""Processes of a bench run: start and stop them, drive the ``hub`` CLI, read their CPU time.

Used by ``python -m bench`` and ``python -m bench.scale``; not run on its own. CPU and memory
are read from ``/proc`` (Linux only), for the process and every process below it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp
from click.testing import CliRunner

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Processes:
    """Child processes of this interpreter, all stopped when the ``running`` block ends."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._started: list[subprocess.Popen[bytes]] = []

    def start(
        self, *args: str, quiet: bool = False, silent: bool = False, **extra: str
    ) -> subprocess.Popen[bytes]:
        """``python ARGS`` with the run's environment plus ``extra``.

        ``quiet``: no stdout; ``silent``: no stderr either (for servers whose failures the
        load counts, so that their tracebacks do not bury the report).
        """
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            [sys.executable, *args],
            env={**self.env, **extra},
            stdout=subprocess.DEVNULL if quiet or silent else None,
            stderr=subprocess.DEVNULL if silent else None,
        )
        self._started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process in self._started:
            self._started.remove(process)

    def stop_all(self) -> None:
        for process in self._started:
            process.terminate()
        for process in list(self._started):
            self.stop(process)


@contextmanager
def running(env: dict[str, str]) -> Iterator[Processes]:
    processes = Processes(env)
    try:
        yield processes
    finally:
        processes.stop_all()


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports free at the time of asking (the system's choice)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for one in sockets:
            one.bind(("127.0.0.1", 0))
        return [one.getsockname()[1] for one in sockets]


def hub_here(env: dict[str, str], *args: str) -> str:
    """Run a ``hub`` command in this process (no interpreter to start) with ``env``.

    For set-up steps whose cost is not measured; what it printed, or its errors raised.
    """
    from hub.cli import main

    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"hub {' '.join(args)} failed ({result.exit_code}):\n{result.output}")
    return result.output


def hub(env: dict[str, str], *args: str) -> str:
    """Run a ``hub`` command in a process of its own and return what it printed.

    On failure, show its errors.
    """
    try:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "hub.cli", *args],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        print(exc.stdout, exc.stderr, sep="\n", file=sys.stderr)
        raise
    return done.stdout


def client_headers(env: dict[str, str], name: str, purpose: str, *options: str) -> dict[str, str]:
    """Register a client with the ``hub`` CLI; its request headers (token and purpose)."""
    slug = name.replace(" ", "-")
    hub_here(env, "clients", "add", slug, *options)
    token = hub_here(env, "tokens", "issue", slug, "--days", "1").split()[-1]
    return {"Authorization": f"Bearer {token}", "X-Purpose": purpose}


async def wait_up(session: aiohttp.ClientSession, url: str, seconds: float = 120) -> None:
    """Wait until ``url`` answers with anything but a server error."""
    async with asyncio.timeout(seconds):
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


def _tree(pid: int) -> list[int]:
    """``pid`` and every live process below it (Linux: /proc/PID/task/TID/children)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` and its live descendants, in seconds.

    Linux only: fields 14 and 15 (utime, stime) of /proc/PID/stat, in clock ticks. The
    name field may hold spaces and parentheses, so the fields are counted after its ``)``.
    """
    total = 0
    for one in _tree(pid):
        try:
            stat = Path(f"/proc/{one}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # fields[0] is field 3 (state)
    return total / _CLOCK_TICKS


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of ``pid``'s main thread and of all its other threads (Linux /proc).

    The others are the process's total less the main thread's: the total keeps the time
    of threads that have ended (SQLite's workers come and go with their connections).
    """
    main = _stat_seconds(Path(f"/proc/{pid}/task/{pid}/stat"))
    return main, _stat_seconds(Path(f"/proc/{pid}/stat")) - main


def _stat_seconds(stat: Path) -> float:
    """User plus system time in a /proc stat file (fields 14 and 15), in seconds."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (Linux /proc/stat).

    Busy is everything but idle and iowait; guest time is already counted in user time.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of ``pid`` in MB (Linux: /proc/PID/status)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0]) / 1024  # kB
    return values["VmRSS"], values["VmHWM"]
