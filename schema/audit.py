"""The disclosure log, for auditors: who saw which parts of which household, when and why."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from hub import audit
from hub.auth.principal import ClientKind, Purpose
from hub.db.models import AuditEntry, Client
from schema import arguments
from schema.context import Info
from schema.policy import OPEN, Mark, field

MAX_ENTRIES = 500
AUDITORS = Mark(open=True, kinds=frozenset({ClientKind.AUDITOR}))


@strawberry.type(description="One access to household data, as the audit log keeps it (披露记录).")
class Disclosure:
    entry: strawberry.Private[AuditEntry]
    names: strawberry.Private[dict[str, str]]

    @field(OPEN, description="Position in the hash-chained log.")
    def seq(self) -> int:
        return self.entry.seq

    @field(OPEN, description="When it happened.")
    def at(self) -> datetime:
        return self.entry.at

    @field(OPEN, description="The client that asked.")
    def client_name(self) -> str | None:
        return self.names.get(self.entry.client_id or "")

    @field(OPEN, description="The kind of client.")
    def client_kind(self) -> ClientKind | None:
        return ClientKind(self.entry.client_kind) if self.entry.client_kind else None

    @field(OPEN, description="The purpose it declared.")
    def purpose(self) -> Purpose | None:
        return Purpose(self.entry.purpose) if self.entry.purpose else None

    @field(OPEN, description="The GraphQL operation.")
    def operation(self) -> str:
        return self.entry.operation

    @field(OPEN, description="The households concerned.")
    def households(self) -> list[strawberry.ID]:
        return [strawberry.ID(h) for h in json.loads(self.entry.households)]

    @field(OPEN, description="The parts disclosed: household, members, sections, consents.")
    def sections(self) -> list[str]:
        return list(json.loads(self.entry.sections))

    @field(OPEN, description="GRANTED, DENIED (out of reach) or PARTIAL.")
    def outcome(self) -> str:
        return self.entry.outcome

    @field(OPEN, description="Whether the caller broke the glass (紧急访问).")
    def break_glass(self) -> bool:
        return self.entry.break_glass

    @field(OPEN, description="The written justification of a break-glass access.")
    def justification(self) -> str | None:
        return self.entry.justification

    @field(OPEN, description="The request, to find it in the hub's logs.")
    def request_id(self) -> str:
        return self.entry.request_id

    @field(
        OPEN,
        description="How many lookups by ID number the request made (the log keeps keyed "
        "hashes of the numbers, never the numbers).",
    )
    def lookups(self) -> int:
        return len(self._details.get("lookups", ()))

    @field(OPEN, description="The filter of a household listing, if the request listed.")
    def listing(self) -> ListingAccess | None:
        if "filter" not in self._details:
            return None
        where = self._details["filter"]
        return ListingAccess(
            district=where.get("district"),
            street=where.get("street"),
            category=where.get("category"),
            counted=bool(self._details.get("aggregate")),
        )

    @field(OPEN, description="Why the request was refused as a whole, if it was.")
    def refused(self) -> str | None:
        refused = self._details.get("refused")
        return str(refused) if refused is not None else None

    @property
    def _details(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.entry.details) if self.entry.details else {}
        return found


@strawberry.type(description="A household listing as the audit log keeps it.")
class ListingAccess:
    district: str | None = field(OPEN, description="District region code filtered on.")
    street: str | None = field(
        OPEN, description="Street filtered on; `*` for a value that is not a street name."
    )
    category: str | None = field(OPEN, description="Assistance category filtered on.")
    counted: bool = field(OPEN, description="Whether the total was given (an aggregate access).")


async def _disclosures(info: Info, entries: list[AuditEntry]) -> list[Disclosure]:
    ids = {e.client_id for e in entries if e.client_id}
    async with info.context.sessions() as session:
        rows = await session.execute(select(Client.id, Client.name).where(Client.id.in_(ids)))
        names = {client_id: name for client_id, name in rows}
    return [Disclosure(entry=e, names=names) for e in entries]


@strawberry.type
class AuditQuery:
    @field(AUDITORS, description="Who saw what of a household, newest first (auditors only).")
    async def disclosures(
        self,
        info: Info,
        household_id: strawberry.ID,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[Disclosure]:
        wanted = arguments.household_id("householdId", household_id)
        info.context.access.saw(wanted, "disclosures")
        entries = await audit.disclosures(
            info.context.sessions,
            household_id=wanted,
            since=from_,
            until=to,
            limit=MAX_ENTRIES,
        )
        return await _disclosures(info, entries)

    @field(AUDITORS, description="Break-glass accesses to review, newest first (auditors only).")
    async def break_glass_accesses(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[Disclosure]:
        entries = await audit.break_glass_entries(
            info.context.sessions, since=from_, until=to, limit=MAX_ENTRIES
        )
        return await _disclosures(info, entries)
