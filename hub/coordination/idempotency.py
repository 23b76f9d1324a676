"""Idempotency keys: a write retried with the key it was first sent with is recorded once.

A client that did not hear the answer to a write (a timeout, a dropped connection, an
``AUDIT_UNAVAILABLE``) sends it again with the same key; the hub answers what it recorded
the first time. The same key with other content is refused: it is a client's mistake,
and answering the first write would hide it. Keys are per client, kept with the row they
made; a unique index on (client, key) settles concurrent retries.
"""

from __future__ import annotations

import hashlib
import json

MAX_KEY = 128


def valid(key: str) -> bool:
    """1 to ``MAX_KEY`` printable characters, without leading or trailing spaces."""
    return 1 <= len(key) <= MAX_KEY and key.isprintable() and key == key.strip()


PROBLEM = (
    f"the idempotency key is 1 to {MAX_KEY} printable characters, without leading or "
    "trailing spaces"
)
REUSED = "this idempotency key was used for another request; use a new key for a new one"


def digest(*content: object) -> str:
    """What a request asked for, to tell a retry from another request under the same key."""
    return hashlib.sha256(json.dumps(content, default=str, ensure_ascii=False).encode()).hexdigest()
