"""The caller of one request: their client, token, declared purpose and reach."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from adapters.vocabulary import District, Source


class ClientKind(enum.Enum):
    """What sort of organisation a client is; the policy table is keyed by it."""

    AGENCY = "AGENCY"  # a government department, optionally limited to a district or street
    CHARITY = "CHARITY"  # a charity organisation: consented households only
    PARTNER = "PARTNER"  # a Yangtze River Delta partner region: cross-region questions only
    AUDITOR = "AUDITOR"  # reads the disclosure log, no household data
    OPERATOR = "OPERATOR"  # runs the hub: health, no household data


class Purpose(enum.Enum):
    """Why a request is made (X-Purpose); recorded with every access."""

    CASE_MANAGEMENT = "CASE_MANAGEMENT"
    ELIGIBILITY_REVIEW = "ELIGIBILITY_REVIEW"
    PROACTIVE_OUTREACH = "PROACTIVE_OUTREACH"
    CHARITY_MATCHING = "CHARITY_MATCHING"
    CROSS_REGION_CHECK = "CROSS_REGION_CHECK"
    AUDIT = "AUDIT"
    OPERATIONS = "OPERATIONS"


DEFAULT_PURPOSES: dict[ClientKind, frozenset[Purpose]] = {
    ClientKind.AGENCY: frozenset(
        {Purpose.CASE_MANAGEMENT, Purpose.ELIGIBILITY_REVIEW, Purpose.PROACTIVE_OUTREACH}
    ),
    ClientKind.CHARITY: frozenset({Purpose.CHARITY_MATCHING}),
    ClientKind.PARTNER: frozenset({Purpose.CROSS_REGION_CHECK}),
    ClientKind.AUDITOR: frozenset({Purpose.AUDIT}),
    ClientKind.OPERATOR: frozenset({Purpose.OPERATIONS}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, as every layer below the HTTP edge sees them."""

    client_id: str
    client_name: str
    kind: ClientKind
    token_id: str
    purpose: Purpose
    department: Source | None = None
    district: District | None = None
    street: str | None = None
    organisation_id: str | None = None
    # Set when an agency opened a household outside its reach in an emergency.
    break_glass: str | None = None

    @property
    def is_civil_affairs_caseworker(self) -> bool:
        return self.kind is ClientKind.AGENCY and self.department is Source.CIVIL_AFFAIRS
