"""The interpreter, tuned for a long-running hub process (``hub serve``, its jobs).

Measured (``make bench``: py-spy on the hub under load, native frames): CPython's cyclic
garbage collector took about 30 % of the hub's CPU at its default thresholds (700, 10,
10). A request allocates tens of thousands of short-lived objects (parsed queries,
records, results), freed by reference counting and almost never in cycles; yet a young
collection ran every 700 allocations, and each older one walked everything the app keeps
for its lifetime (the schema, the rules, pools, caches). Here young collections run a
seventieth as often, and what start-up made is moved out of the collector's sight.
"""

from __future__ import annotations

import gc

# Young objects collected every 50,000 net allocations; older generations as before in
# proportion. Cyclic garbage is still found; it lives a little longer.
THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Call once start-up is done: collect what it left, freeze what remains (never
    scanned again, never freed: it lives as long as the process), raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
