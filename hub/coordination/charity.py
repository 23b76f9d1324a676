"""Charity aid recorded through the hub (慈善衔接: 救助记录), beside the department's own.

A charity records what it gave a household in its reach with an idempotency key of its
own, so that a retried request records once; the same key with other content is refused.
The household's charity section shows that aid beside the charity department's records,
each with its provenance (``combined``). Plain functions over the hub's tables; nothing
here knows GraphQL.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.charity import CharityAid, CharityAidKind, CharityRecipient
from hub.auth.principal import ClientKind, Principal
from hub.db.coordination import RecordedCharityAid
from hub.db.models import Client, IndexedHousehold
from hub.households import facts
from hub.households.reach import Reach, flag
from hub.index import cache as index_cache
from hub.money import fen, yuan
from hub.problems import Problem


class AidProvenance(enum.Enum):
    """Where a record of charity aid comes from."""

    CHARITY_DEPARTMENT = "CHARITY_DEPARTMENT"  # the charity federation's own records
    HUB = "HUB"  # recorded by a charity through the hub (recordCharityAid)


@dataclass(frozen=True, slots=True)
class GivenAid:
    """One grant of charity aid, as the household's charity section shows it."""

    id: str
    beneficiary_id_number: str | None  # None: aid to the household, recorded through the hub
    recipient: CharityRecipient
    organisation_id: str
    organisation_name: str
    project_id: str | None  # the hub knows projects by name only
    project_name: str
    kind: CharityAidKind
    amount: Decimal
    given_on: date
    provenance: AidProvenance


@dataclass(frozen=True, slots=True)
class CharityRecord:
    """The household's charity section: both kinds of record, most recent first."""

    aid: tuple[GivenAid, ...]
    total_amount: Decimal
    last_given_on: date | None
    rules_version: str


def from_department(aid: CharityAid) -> GivenAid:
    return GivenAid(
        id=aid.id,
        beneficiary_id_number=aid.beneficiary_id_number,
        recipient=aid.recipient,
        organisation_id=aid.organisation_id,
        organisation_name=aid.organisation_name,
        project_id=aid.project_id,
        project_name=aid.project_name,
        kind=aid.kind,
        amount=aid.amount,
        given_on=aid.given_on,
        provenance=AidProvenance.CHARITY_DEPARTMENT,
    )


def combined(found: facts.CharityFacts, recorded: Sequence[GivenAid]) -> CharityRecord:
    """The department's aid and the aid recorded through the hub, most recent first; the
    total and the last date count both."""
    every = [*(from_department(a) for a in found.aid), *recorded]
    every.sort(key=lambda a: (a.given_on, a.id), reverse=True)
    return CharityRecord(
        aid=tuple(every),
        total_amount=sum((a.amount for a in every), Decimal("0.00")),
        last_given_on=every[0].given_on if every else None,
        rules_version=found.rules_version,
    )


def _given(row: RecordedCharityAid, organisation_name: str | None) -> GivenAid:
    amount = yuan(row.amount_fen)
    assert amount is not None
    return GivenAid(
        id=row.id,
        beneficiary_id_number=row.beneficiary_id_number,
        recipient=CharityRecipient.HOUSEHOLD,
        organisation_id=row.organisation_id,
        organisation_name=organisation_name or row.organisation_id,
        project_id=None,
        project_name=row.project_name,
        kind=CharityAidKind(row.kind),
        amount=amount,
        given_on=row.given_on,
        provenance=AidProvenance.HUB,
    )


async def recorded_aid(
    sessions: async_sessionmaker[AsyncSession], household_ids: Sequence[str]
) -> dict[str, list[GivenAid]]:
    """The aid recorded through the hub for each household (one query; reach checked by
    the caller), with the recording charity's client name where the client still exists."""
    found: dict[str, list[GivenAid]] = {h: [] for h in household_ids}
    if not household_ids:
        return found
    async with sessions() as session:
        rows = await session.execute(
            select(RecordedCharityAid, Client.name)
            .outerjoin(Client, Client.id == RecordedCharityAid.recorded_by)
            .where(RecordedCharityAid.household_id.in_(list(set(household_ids))))
            .order_by(RecordedCharityAid.given_on.desc(), RecordedCharityAid.id)
        )
        for row, name in rows:
            found[row.household_id].append(_given(row, name))
    return found


class CharityAidErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"  # only charities record charity aid
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_DATE = "INVALID_DATE"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    INVALID_PROJECT_NAME = "INVALID_PROJECT_NAME"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the same key with other content


class CharityAidProblem(Problem[CharityAidErrorCode]):
    """A refusal of this module, with its code."""


@dataclass(frozen=True, slots=True)
class AidToRecord:
    """What a charity says it gave: the content a retry must repeat exactly."""

    household_id: str
    kind: CharityAidKind
    amount: Decimal
    given_on: date
    project_name: str

    def digest(self) -> str:
        content = {
            "household_id": self.household_id,
            "kind": self.kind.value,
            "amount_fen": fen(self.amount),
            "given_on": self.given_on.isoformat(),
            "project_name": self.project_name,
        }
        text = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Recorded:
    """Aid recorded through the hub; ``replayed``: recorded by an earlier request."""

    aid: GivenAid
    household_id: str
    idempotency_key: str
    recorded_at: datetime
    replayed: bool


# What the table holds (``amount_fen`` is a BigInteger, the key and name 128 characters):
# bounds of the store, not rules of assistance.
MAX_AMOUNT = Decimal("1000000000000")
MAX_TEXT = 128


def _checked(aid: AidToRecord, key: str, today: date) -> AidToRecord:
    amount = aid.amount
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise CharityAidProblem(
            CharityAidErrorCode.INVALID_AMOUNT, "the amount must be more than 0 yuan"
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise CharityAidProblem(
            CharityAidErrorCode.INVALID_AMOUNT, "the amount has at most two decimals (fen)"
        )
    if aid.given_on > today:
        raise CharityAidProblem(CharityAidErrorCode.INVALID_DATE, "aid cannot be given later")
    if not 1 <= len(key) <= MAX_TEXT or not key.isprintable() or key != key.strip():
        raise CharityAidProblem(
            CharityAidErrorCode.INVALID_IDEMPOTENCY_KEY,
            f"the idempotency key is 1 to {MAX_TEXT} printable characters, without "
            "leading or trailing spaces",
        )
    name = aid.project_name.strip()
    if not 1 <= len(name) <= MAX_TEXT or not name.isprintable():
        raise CharityAidProblem(
            CharityAidErrorCode.INVALID_PROJECT_NAME,
            f"the project name is 1 to {MAX_TEXT} printable characters",
        )
    return dataclasses.replace(aid, project_name=name, amount=amount.quantize(Decimal("0.01")))


async def _in_reach(session: AsyncSession, household_id: str, reach: Reach, now: datetime) -> None:
    """The household exists and is in reach, or HOUSEHOLD_NOT_FOUND (one query either way)."""
    found = (
        await session.execute(
            select(flag(reach, now)).where(IndexedHousehold.household_id == household_id)
        )
    ).first()
    if found is None or not found[0]:
        raise CharityAidProblem(
            CharityAidErrorCode.HOUSEHOLD_NOT_FOUND,
            "no such household",
            denied=household_id if found is not None else None,
        )


async def _existing(
    session: AsyncSession, organisation_id: str, key: str
) -> tuple[RecordedCharityAid, str | None] | None:
    """The aid recorded under the key, with its recording client's name."""
    found = (
        await session.execute(
            select(RecordedCharityAid, Client.name)
            .outerjoin(Client, Client.id == RecordedCharityAid.recorded_by)
            .where(
                RecordedCharityAid.organisation_id == organisation_id,
                RecordedCharityAid.idempotency_key == key,
            )
        )
    ).first()
    return (found[0], found[1]) if found is not None else None


def _replayed(existing: tuple[RecordedCharityAid, str | None], digest: str) -> Recorded:
    row, name = existing
    if row.request_hash != digest:
        raise CharityAidProblem(
            CharityAidErrorCode.IDEMPOTENCY_KEY_REUSED,
            "this idempotency key was used for other aid; use a new key for new aid",
        )
    return _recorded(row, name, replayed=True)


def _recorded(row: RecordedCharityAid, name: str | None, *, replayed: bool) -> Recorded:
    return Recorded(
        aid=_given(row, name),
        household_id=row.household_id,
        idempotency_key=row.idempotency_key,
        recorded_at=row.recorded_at,
        replayed=replayed,
    )


async def record_aid(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    aid: AidToRecord,
    idempotency_key: str,
    reach: Reach,
    now: datetime,
    today: date,
) -> Recorded:
    """Record aid a charity gave a household in its reach, once per idempotency key.

    The household is read together with the caller's reach, in the transaction that
    records. A retry with the same key and content answers the aid recorded first
    (``replayed``); the same key with other content is refused. Concurrent retries race
    to the unique index on (organisation, key): the losers roll back and read the winner.
    """
    organisation_id = principal.organisation_id
    if principal.kind is not ClientKind.CHARITY or organisation_id is None:
        raise CharityAidProblem(
            CharityAidErrorCode.NOT_ALLOWED, "only charities record charity aid"
        )
    aid = _checked(aid, idempotency_key, today)
    digest = aid.digest()
    try:
        async with sessions.begin() as session:
            await _in_reach(session, aid.household_id, reach, now)
            existing = await _existing(session, organisation_id, idempotency_key)
            if existing is not None:
                return _replayed(existing, digest)
            row = RecordedCharityAid(
                id=str(uuid.uuid4()),
                household_id=aid.household_id,
                organisation_id=organisation_id,
                idempotency_key=idempotency_key,
                request_hash=digest,
                kind=aid.kind.value,
                amount_fen=fen(aid.amount),
                given_on=aid.given_on,
                project_name=aid.project_name,
                beneficiary_id_number=None,
                recorded_by=principal.client_id,
                recorded_at=now,
            )
            session.add(row)
            await session.flush()
            recorded = _recorded(row, principal.client_name, replayed=False)
        # Workers' index entries say whether a household has aid recorded (hub.index.cache).
        await index_cache.announce_change(sessions)
        return recorded
    except IntegrityError:
        pass  # a concurrent request with the same key recorded first
    async with sessions() as session:
        existing = await _existing(session, organisation_id, idempotency_key)
    if existing is None:  # pragma: no cover - the index refused for another reason
        raise RuntimeError("charity aid was refused by the database, and no record holds its key")
    return _replayed(existing, digest)
