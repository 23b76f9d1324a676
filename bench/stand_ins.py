"""The stand-in departments of a bench run, on the ports the bench chose.

``python -m bench.stand_ins`` serves the sandbox departments (all, or ``--only``) for
``--seed`` and ``--size``, each answering after ``--latency-ms``, on the ports named by
``HUB_<SOURCE>__BASE_URL`` (the same variables that point the hub at them), and the
faults and call-count service on ``--control-port`` (0: none). Not for use outside the
bench: ``hub sandbox`` serves the stand-ins on their usual ports.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from adapters.sandbox.faults import parse_assignment
from adapters.sandbox.server import build_apps, serve
from adapters.vocabulary import Source


def base_url_variable(source: Source) -> str:
    return f"HUB_{source.name}__BASE_URL"


def department_environment(ports: Mapping[Source, int]) -> dict[str, str]:
    """The variables that point the hub (and this module) at each department's port."""
    return {base_url_variable(s): f"http://127.0.0.1:{port}" for s, port in ports.items()}


def department_ports(env: Mapping[str, str]) -> dict[Source, int]:
    """Each department's port, from ``HUB_<SOURCE>__BASE_URL`` (those that are set)."""
    ports = {}
    for source in Source:
        url = env.get(base_url_variable(source))
        if url is not None and (port := urlsplit(url).port) is not None:
            ports[source] = port
    return ports


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stand_ins", description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--only", action="append", default=[], metavar="SOURCE")
    args = parser.parse_args()
    ports = department_ports(os.environ)
    only = [Source(name) for name in args.only] or list(ports)
    missing = [s.value for s in only if s not in ports]
    if missing:
        parser.error(f"no HUB_<SOURCE>__BASE_URL with a port for {', '.join(missing)}")
    apps = build_apps(args.seed, args.size, only=only)
    if args.latency_ms:
        for app in apps.values():
            app.faults.update(parse_assignment(f"latency_ms={args.latency_ms:g}"))
    asyncio.run(serve(apps, ports, control_port=args.control_port or None))


if __name__ == "__main__":
    main()
