"""The seven stand-ins in a process of their own, on the ports they are given.

``python -m tests.reliability.standins SEED SIZE CONTROL_PORT PORT...`` (one port per
department, in ``adapters.sandbox.server.SERVED`` order). ``hub sandbox`` serves on the
fixed sandbox ports; the suite runs beside other tests and picks free ones. Faults are
set at run time on the control port, as with ``hub sandbox`` (``down`` closes a port).
"""

from __future__ import annotations

import asyncio
import sys

from adapters.sandbox.server import SERVED, build_apps, serve


def main(argv: list[str]) -> None:
    seed, size, control, *ports = (int(arg) for arg in argv)
    if len(ports) != len(SERVED):
        raise SystemExit(f"give {len(SERVED)} ports, one per department, in order")
    apps = build_apps(seed, size)
    asyncio.run(serve(apps, dict(zip(SERVED, ports, strict=True)), control_port=control))


if __name__ == "__main__":
    main(sys.argv[1:])
