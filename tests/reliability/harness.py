"""What the reliability suite runs the hub on: real processes, real sockets, a proxy to cut.

- ``StandIns``: the seven stand-in departments in a process of their own, on free ports,
  hurt at run time through their control port;
- ``HubProcess``: ``hub serve`` (``--workers N``) as the operator runs it, in production
  mode, with its environment pointing at the stand-ins and at a database;
- ``TcpProxy``: an asyncio TCP proxy between the hub and PostgreSQL that can cut the
  connection (drop every connection and refuse new ones) and restore it.

Every process is started by the test and stopped (terminate, then kill) when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from adapters.sandbox.server import SERVED
from adapters.vocabulary import Source

SECRET = "reliability-suite-secret-key-0123456789abcdef"  # production mode needs one


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick; taken again at once by the caller)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            [sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def _stopped(process: subprocess.Popen[bytes], *, patience: float = 10) -> None:
    """Terminate the process, and kill it if it has not ended after ``patience`` seconds.
    The event loop keeps running meanwhile: the process may be waiting on it to shut down
    (on the ``TcpProxy`` between it and its database, above all)."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, patience)
    if process.poll() is None:
        process.kill()
        await asyncio.to_thread(process.wait)


async def _tail(log: Path) -> str:
    text = await asyncio.to_thread(log.read_text, errors="replace")
    return text[-4000:]


async def wait_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``url`` answers 200; fail with the process's log if it dies first."""
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url} died on start:\n{await _tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 60 s:\n{await _tail(log)}")


class StandIns:
    """The stand-ins of ``seed`` and ``size`` in a process of their own."""

    def __init__(self, seed: int, size: int, log: Path) -> None:
        self.ports = {source: free_port() for source in SERVED}
        self.control = free_port()
        self.log = log
        args = [str(seed), str(size), str(self.control), *(str(self.ports[s]) for s in SERVED)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = _start(["-m", "tests.reliability.standins", *args], env, log)

    async def started(self) -> None:
        await wait_answering(f"http://127.0.0.1:{self.control}/faults", self.process, self.log)
        for source in SERVED:
            url = f"http://127.0.0.1:{self.ports[source]}/health"
            await wait_answering(url, self.process, self.log)

    def url(self, source: Source) -> str:
        return f"http://127.0.0.1:{self.ports[source]}"

    def environment(self) -> dict[str, str]:
        """``HUB_<DEPARTMENT>__BASE_URL`` for every department."""
        return {f"HUB_{s.value.upper()}__BASE_URL": self.url(s) for s in SERVED}

    async def hurt(self, source: Source, **faults: Any) -> None:
        """Set faults on one department (``reset=True`` first clears the others)."""
        url = f"http://127.0.0.1:{self.control}/faults/{source.name.lower()}"
        async with aiohttp.ClientSession() as session, session.put(url, json=faults) as answer:
            if answer.status != 200:
                raise RuntimeError(f"faults {faults} refused: {await answer.text()}")

    async def heal(self) -> None:
        for source in SERVED:
            await self.hurt(source, reset=True)
        # ``down`` is carried out by a loop that looks every 0.1 s: let it reopen the ports.
        for source in SERVED:
            await wait_answering(f"{self.url(source)}/health", self.process, self.log)

    def stop(self) -> None:
        """Killed: the stand-ins keep nothing worth a graceful stop, and their servers,
        several in one process, take a while to agree on one."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class HubProcess:
    """``hub serve`` on a free port: production mode, the given database and departments,
    and ``settings`` (``HUB_...`` variables) over those."""

    def __init__(
        self,
        database_url: str,
        departments: Mapping[str, str],
        log: Path,
        *,
        workers: int = 1,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.log = log
        metrics = log.with_suffix(".metrics")
        metrics.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "HUB_ENV": "production",
            "HUB_SECRET_KEY": SECRET,
            "HUB_HOST": "127.0.0.1",
            "HUB_PORT": str(self.port),
            "HUB_DATABASE_URL": database_url,
            "HUB_LOG_LEVEL": "warning",
            # The suite's own clients are few and busy; the per-token limits are not on trial.
            "HUB_RATE_LIMIT_PER_MINUTE": "1000000",
            "HUB_RATE_LIMIT_BURST": "100000",
            # Several workers keep their metrics in files: here, not in a directory of
            # their own that a killed server would leave behind.
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            **departments,
            **(settings or {}),
        }
        self.env.pop("HUB_REDIS_URL", None)
        self.process = _start(["-m", "hub.cli", "serve", "--workers", str(workers)], self.env, log)
        self._seen: set[int] = set()  # every worker seen, to be sure none is left

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def started(self, workers: int = 0) -> list[int]:
        """Wait for ``/healthz`` (and for ``workers`` live worker processes, with
        ``--workers``); the workers' PIDs."""
        await wait_answering(f"{self.url}/healthz", self.process, self.log)
        deadline = time.monotonic() + 60
        while len(found := self.workers()) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers did not start:\n{await _tail(self.log)}")
            await asyncio.sleep(0.1)
        return sorted(found)

    def workers(self) -> list[int]:
        """PIDs of the worker processes (``--workers`` > 1): the server's children that are
        not multiprocessing's own helpers."""
        found = []
        for child in _children(self.process.pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if b"resource_tracker" not in command and state != "Z":  # Z: dead, not reaped
                found.append(child)
        self._seen.update(found)
        return found

    def connections(self, pid: int) -> int:
        """How many client connections the worker ``pid`` holds open: the kernel hands the
        clients' keep-alive connections to whichever worker accepts first, often unevenly."""
        sockets = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    sockets.add(target[len("socket:[") : -1])
        held = 0
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                    fields = line.split()
                    local_port = int(fields[1].rsplit(":", 1)[1], 16)
                    established = fields[3] == "01"
                    held += local_port == self.port and established and fields[9] in sockets
        return held

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    async def replaced(self, pid: int, workers: int) -> list[int]:
        """Wait until the server has put a new worker in the place of ``pid`` (dead), so
        that ``workers`` live again; their PIDs."""
        deadline = time.monotonic() + 60
        while pid in (found := self.workers()) or len(found) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker {pid} was not replaced:\n{await _tail(self.log)}")
            await asyncio.sleep(0.1)
        return sorted(found)

    async def stopped(self) -> None:
        """Stop the server (its workers with it); kill any worker it left."""
        self.workers()
        await _stopped(self.process, patience=5)
        for pid in self._seen:
            if self._ours(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def _ours(self, pid: int) -> bool:
        """Whether ``pid`` is still a worker of this server (not a process that took its
        number since)."""
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"HUB_PORT={self.port}".encode() in environ


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


class TcpProxy:
    """Forwards connections from a free local port to ``upstream``; ``cut`` drops every
    connection and closes the port (new connections are refused) until ``restore``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self.cuts = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuse new connections and reset every open one, as a failed link or server does."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        if self._server is None:  # cut while connecting upstream
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._open |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pump = asyncio.create_task(self._pump(source, sink, (writer, up_writer)))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in pair:
                self._open.discard(end)
                end.transport.abort()
