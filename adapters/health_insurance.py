"""Adapter for the health-insurance (医保) system: schemes, premiums, claims, medical assistance.

Owns the department's wire format (see ``adapters/sandbox/health_insurance.py`` for the
contract): snake_case JSON, the national 医保 code tables (险种 ``310``/``390``, 医疗类别
``11``/``14``/``21``), every amount an integer in fen, ISO dates. What leaves this module
is the records below, with amounts in yuan.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from adapters import wire
from adapters.base import Health
from adapters.http import SourceClient
from adapters.vocabulary import Source
from adapters.wire import chunks, reading


class MedicalScheme(enum.Enum):
    """The basic medical insurance scheme a person is in."""

    EMPLOYEE = "EMPLOYEE"
    RESIDENT = "RESIDENT"


class MedicalClaimKind(enum.Enum):
    """What a settled claim paid for."""

    OUTPATIENT = "OUTPATIENT"
    CHRONIC_OUTPATIENT = "CHRONIC_OUTPATIENT"
    INPATIENT = "INPATIENT"


class MedicalAssistanceKind(enum.Enum):
    """What a medical-assistance (医疗救助) payment covered."""

    OUTPATIENT = "OUTPATIENT"
    INPATIENT = "INPATIENT"
    SERIOUS_ILLNESS = "SERIOUS_ILLNESS"


@dataclass(frozen=True, slots=True)
class MedicalClaim:
    """One settled claim (结算): what it cost and what the insurance paid."""

    settlement_id: str
    settled_on: date
    kind: MedicalClaimKind
    total_cost: Decimal
    reimbursed: Decimal
    serious_illness: bool

    @property
    def out_of_pocket(self) -> Decimal:
        return self.total_cost - self.reimbursed


@dataclass(frozen=True, slots=True)
class MedicalAssistancePayment:
    """One medical-assistance payment, tied to the claim it helped with where known."""

    paid_on: date
    kind: MedicalAssistanceKind
    amount: Decimal
    settlement_id: str | None


@dataclass(frozen=True, slots=True)
class MedicalRecord:
    """An insured person: scheme, this year's premium, recent claims and assistance."""

    id_number: str
    scheme: MedicalScheme
    insured_since: date
    premium_year: int
    annual_premium: Decimal
    subsidised_premium: Decimal
    claims: tuple[MedicalClaim, ...]
    assistance: tuple[MedicalAssistancePayment, ...]

    @property
    def personal_premium(self) -> Decimal:
        return self.annual_premium - self.subsidised_premium


_SCHEME = {"310": MedicalScheme.EMPLOYEE, "390": MedicalScheme.RESIDENT}
_CLAIM_KIND = {
    "11": MedicalClaimKind.OUTPATIENT,
    "14": MedicalClaimKind.CHRONIC_OUTPATIENT,
    "21": MedicalClaimKind.INPATIENT,
}
_ASSISTANCE_KIND = {
    "MZJZ": MedicalAssistanceKind.OUTPATIENT,
    "ZYJZ": MedicalAssistanceKind.INPATIENT,
    "DBJZ": MedicalAssistanceKind.SERIOUS_ILLNESS,
}


class HealthInsuranceAdapter:
    """Insured persons by ID number: one record each, or none if the person is not insured."""

    source = Source.HEALTH_INSURANCE

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[MedicalRecord]]:
        found: dict[str, MedicalRecord] = {}
        for chunk in chunks(keys):
            body = await self._http.post("/v2/insured/query", {"id_card_nos": chunk})
            with reading(self.source):
                for item in body["insured"]:
                    record = _record(item)
                    found[record.id_number] = record
        return {key: [found[key]] if key in found else [] for key in keys}

    async def health(self) -> Health:
        return await self._http.health()


def _fen(value: Any) -> Decimal:
    # bool is an int in Python; a fen amount is never a float, a string or negative.
    if type(value) is not int or value < 0:
        raise ValueError("amount is not a whole number of fen")
    return Decimal(value).scaleb(-2)


_date = wire.day


def _claim(item: dict[str, Any]) -> MedicalClaim:
    claim = MedicalClaim(
        settlement_id=str(item["setl_id"]),
        settled_on=_date(item["settled_on"]),
        kind=_CLAIM_KIND[item["med_type"]],
        total_cost=_fen(item["total_cost"]),
        reimbursed=_fen(item["fund_paid"]),
        serious_illness=bool(item["serious_illness"]),
    )
    # The department reports the person's share too; if it disagrees, the record is corrupt.
    if claim.out_of_pocket < 0 or _fen(item["self_paid"]) != claim.out_of_pocket:
        raise ValueError("self_paid is not total_cost - fund_paid")
    return claim


def _assistance(item: dict[str, Any]) -> MedicalAssistancePayment:
    settlement = item.get("setl_id")
    return MedicalAssistancePayment(
        paid_on=_date(item["paid_on"]),
        kind=_ASSISTANCE_KIND[item["kind"]],
        amount=_fen(item["amount"]),
        settlement_id=str(settlement) if settlement is not None else None,
    )


def _record(item: dict[str, Any]) -> MedicalRecord:
    annual = _fen(item["annual_premium"])
    subsidised = _fen(item["premium_subsidy"])
    if subsidised > annual:
        raise ValueError("premium subsidy exceeds the premium")
    return MedicalRecord(
        id_number=str(item["id_card_no"]),
        scheme=_SCHEME[item["insutype"]],
        insured_since=_date(item["insured_since"]),
        premium_year=int(item["premium_year"]),
        annual_premium=annual,
        subsidised_premium=subsidised,
        claims=tuple(_claim(c) for c in item["claims"]),
        assistance=tuple(_assistance(a) for a in item["medical_assistance"]),
    )
