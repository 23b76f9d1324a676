"""Consent to share with charities: recorded and withdrawn by civil-affairs caseworkers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import strawberry

from hub.auth import consent as consents
from hub.auth.consent import ConsentErrorCode, ConsentProblem
from hub.auth.principal import Purpose
from hub.db.models import Consent as ConsentRow
from hub.households.service import SHANGHAI
from schema import arguments
from schema.context import Info
from schema.enums import described
from schema.policy import OPEN, field, mutation

described(
    ConsentErrorCode,
    "Why a consent could not be recorded or withdrawn.",
    {
        "NOT_ALLOWED": "Only civil-affairs caseworkers record or withdraw consent.",
        "HOUSEHOLD_NOT_FOUND": "No such household within the caller's reach.",
        "CONSENT_NOT_FOUND": "No such consent.",
        "INVALID_EXPIRY": "The expiry must be in the future.",
        "INVALID_PURPOSE": "Households consent to share only for charity matching.",
        "ALREADY_WITHDRAWN": "The consent was withdrawn already.",
        "VERSION_CONFLICT": "Someone changed the consent since it was read; read it again.",
    },
)


@strawberry.type(description="A household's consent to share its data with charities (授权).")
class Consent:
    row: strawberry.Private[ConsentRow]

    @field(OPEN, description="Consent ID.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @field(OPEN, description="The household that consented.")
    def household_id(self) -> strawberry.ID:
        return strawberry.ID(self.row.household_id)

    @field(OPEN, description="The charity organisation it names; null for any charity.")
    def organisation_id(self) -> str | None:
        return self.row.organisation_id

    @field(OPEN, description="What the data may be used for.")
    def purpose(self) -> Purpose:
        return Purpose(self.row.purpose)

    @field(OPEN, description="When the consent was recorded.")
    def granted_at(self) -> datetime:
        return self.row.granted_at

    @field(OPEN, description="When it lapses.")
    def expires_at(self) -> datetime:
        return self.row.expires_at

    @field(OPEN, description="When it was withdrawn, if it was.")
    def withdrawn_at(self) -> datetime | None:
        return self.row.withdrawn_at

    @field(OPEN, description="Whether it is in force now.")
    def live(self, info: Info) -> bool:
        return consents.is_live(self.row, info.context.now)

    @field(OPEN, description="Version, for withdrawing only what was read (乐观锁).")
    def version(self) -> int:
        return self.row.version


@strawberry.type(description="The consent as recorded or withdrawn.")
class ConsentPayload:
    consent: Consent = field(OPEN, description="The consent.")


@strawberry.type(description="Why the consent could not be recorded or withdrawn.")
class ConsentError:
    code: ConsentErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")


ConsentResult = Annotated[
    ConsentPayload | ConsentError,
    strawberry.union("ConsentResult", description="A consent, or why there is none."),
]


@strawberry.input(description="A household's consent to share with charities.")
class RecordConsentInput:
    household_id: strawberry.ID = strawberry.field(description="The household.")
    organisation_id: str | None = strawberry.field(
        default=None, description="The charity organisation; omit for any charity."
    )
    purpose: Purpose = strawberry.field(
        default=Purpose.CHARITY_MATCHING, description="What the data may be used for."
    )
    expires_on: date = strawberry.field(description="The last day it holds (Shanghai time).")


@strawberry.type
class ConsentQuery:
    @field(OPEN, description="A household's consents, newest first (caseworkers only).")
    async def consents(self, info: Info, household_id: strawberry.ID) -> list[Consent]:
        context = info.context
        if not context.principal.is_civil_affairs_caseworker:
            return []
        wanted = arguments.household_id("householdId", household_id)
        if await context.loaders.entry_by_id.load(wanted) is None:
            return []
        context.access.saw(wanted, "consents")
        rows = await consents.for_household(context.sessions, wanted)
        return [Consent(row=r) for r in rows]


@strawberry.type
class ConsentMutation:
    @mutation(OPEN, description="Record a household's consent to share with charities.")
    async def record_consent(self, info: Info, input: RecordConsentInput) -> ConsentResult:
        context = info.context
        wanted = arguments.household_id("householdId", input.household_id)
        household = await context.loaders.entry_by_id.load(wanted)
        try:
            if household is None and context.principal.is_civil_affairs_caseworker:
                raise ConsentProblem(ConsentErrorCode.HOUSEHOLD_NOT_FOUND, "no such household")
            row = await consents.record(
                context.sessions,
                context.principal,
                household_id=wanted,
                organisation_id=input.organisation_id,
                purpose=input.purpose,
                expires_at=_end_of(input.expires_on),
                now=context.now,
            )
        except ConsentProblem as problem:
            _note(info, problem)
            return ConsentError(code=problem.code, message=problem.message)
        context.access.saw(row.household_id, "consents")
        return ConsentPayload(consent=Consent(row=row))

    @mutation(OPEN, description="Withdraw a consent; it stops on the next request.")
    async def withdraw_consent(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> ConsentResult:
        context = info.context
        try:
            row = await consents.withdraw(
                context.sessions,
                context.principal,
                consent_id=str(id),
                version=version,
                reach=context.reach,
                now=context.now,
            )
        except ConsentProblem as problem:
            _note(info, problem)
            return ConsentError(code=problem.code, message=problem.message)
        context.access.saw(row.household_id, "consents")
        return ConsentPayload(consent=Consent(row=row))


def _note(info: Info, problem: ConsentProblem) -> None:
    """What the audit log keeps of a refused consent change."""
    if problem.denied is not None:
        info.context.access.deny(problem.denied)
    if problem.code is ConsentErrorCode.NOT_ALLOWED:
        info.context.access.refuse(problem.code.value)


def _end_of(day: date) -> datetime:
    """The end of ``day`` in Shanghai, as a UTC instant."""
    return datetime.combine(day, time.max, tzinfo=SHANGHAI).astimezone(UTC)
