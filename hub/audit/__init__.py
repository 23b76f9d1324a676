"""The tamper-evident audit log: who saw which sections of which household, when and why.

Every read of household data appends one entry. Entries form a hash chain: ``seq`` counts
up from 1 without gaps, ``prev_hash`` is the previous entry's ``hash`` (64 zeros for the
first), and ``hash`` is SHA-256 over a canonical encoding of every other column, so that
altering, deleting, inserting or reordering entries breaks the chain where it happened;
``verify`` walks the chain and names the first entry that does not fit.

The log holds no personal values: household IDs and section names only, checked on the
way in, beside the caller's identity, purpose and (for break-glass access) justification.

Appenders are serialised, since each entry needs the one before it: on PostgreSQL by a
transaction-scoped advisory lock, on SQLite by starting the transaction with
``BEGIN IMMEDIATE`` (the database's single write lock). Both are taken before the last
entry is read and held until the new one commits, across processes and engines.

Two things the chain cannot show by itself: that its newest entries were deleted (the
rest still links up), and that someone with write access who knows this encoding rebuilt
every hash from some entry onwards. Both show against the signed checkpoints of the head
that the hub takes at intervals and exports beyond the database
(``hub.audit.checkpoints``, checked by ``hub audit verify``), or against a head
(``head()``) recorded by hand somewhere the database's writers cannot reach, passed back
to ``verify(anchor=...)``.
"""

from hub.audit.chain import (
    GENESIS,
    HASHED_COLUMNS,
    LOCK_KEY,
    OUTCOMES,
    AccessRecord,
    AuditWriter,
    append,
    append_many,
    entry_hash,
)
from hub.audit.reads import break_glass_entries, disclosures, lookups
from hub.audit.verify import PAGE_SIZE, ChainBreak, head, verify

__all__ = [
    "GENESIS",
    "HASHED_COLUMNS",
    "LOCK_KEY",
    "OUTCOMES",
    "PAGE_SIZE",
    "AccessRecord",
    "AuditWriter",
    "ChainBreak",
    "append",
    "append_many",
    "break_glass_entries",
    "disclosures",
    "entry_hash",
    "head",
    "lookups",
    "verify",
]
