"""The health-insurance (医保) section of a household: insurance, claims, medical assistance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import health_insurance as hi
from adapters.health_insurance import MedicalAssistanceKind, MedicalClaimKind, MedicalScheme
from schema.enums import described

described(
    MedicalScheme,
    "Basic medical insurance scheme (基本医疗保险险种).",
    {
        "EMPLOYEE": "职工基本医疗保险 (职工医保): for employees and retired employees.",
        "RESIDENT": "城乡居民基本医疗保险 (城乡居民医保): for everyone else, children included.",
    },
)

described(
    MedicalClaimKind,
    "What a settled claim paid for (医疗类别).",
    {
        "OUTPATIENT": "普通门诊: ordinary outpatient visit.",
        "CHRONIC_OUTPATIENT": "门诊慢特病: outpatient treatment of a chronic or special disease.",
        "INPATIENT": "住院: hospital stay.",
    },
)

described(
    MedicalAssistanceKind,
    "What a medical-assistance payment covered (医疗救助类别).",
    {
        "OUTPATIENT": "门诊救助: outpatient assistance.",
        "INPATIENT": "住院救助: inpatient assistance.",
        "SERIOUS_ILLNESS": "大病救助: assistance with a serious illness.",
    },
)


@strawberry.type(description="A settled medical claim (医保结算) of one insured person.")
class MedicalClaim:
    settlement_id: str = strawberry.field(description="Settlement number (结算号).")
    settled_on: date = strawberry.field(description="Date of settlement (结算日期).")
    kind: MedicalClaimKind = strawberry.field(description="What the claim paid for.")
    total_cost: Decimal = strawberry.field(description="Total medical cost (医疗总费用), yuan.")
    reimbursed: Decimal = strawberry.field(
        description="Paid by the insurance funds (统筹基金支付), yuan."
    )
    out_of_pocket: Decimal = strawberry.field(
        description="Left for the person to pay (个人负担): total cost minus reimbursed, yuan."
    )
    serious_illness: bool = strawberry.field(description="Whether it is a serious illness (大病).")

    @classmethod
    def from_record(cls, c: hi.MedicalClaim) -> MedicalClaim:
        return cls(
            settlement_id=c.settlement_id,
            settled_on=c.settled_on,
            kind=c.kind,
            total_cost=c.total_cost,
            reimbursed=c.reimbursed,
            out_of_pocket=c.out_of_pocket,
            serious_illness=c.serious_illness,
        )


@strawberry.type(description="医疗救助: a medical-assistance payment to one person.")
class MedicalAssistancePayment:
    paid_on: date = strawberry.field(description="Date of payment.")
    kind: MedicalAssistanceKind = strawberry.field(description="What the payment covered.")
    amount: Decimal = strawberry.field(description="Amount paid, yuan.")
    settlement_id: str | None = strawberry.field(
        description="The claim it helped with (结算号), where the department records it."
    )

    @classmethod
    def from_record(cls, p: hi.MedicalAssistancePayment) -> MedicalAssistancePayment:
        return cls(paid_on=p.paid_on, kind=p.kind, amount=p.amount, settlement_id=p.settlement_id)


@strawberry.type(description="A household member insured in Shanghai (参保人).")
class MedicalInsuredPerson:
    id_number: str = strawberry.field(description="Citizen ID number (公民身份号码).")
    scheme: MedicalScheme = strawberry.field(description="The scheme the person is in.")
    insured_since: date = strawberry.field(description="Start of the current insurance.")
    premium_year: int = strawberry.field(description="The year the premium is for (参保年度).")
    annual_premium: Decimal = strawberry.field(
        description="The person's own yearly contribution (个人缴费), yuan."
    )
    subsidised_premium: Decimal = strawberry.field(
        description="资助参保: the part of the contribution paid by medical assistance, yuan."
    )
    personal_premium: Decimal = strawberry.field(
        description="What the person still pays: premium minus subsidy, yuan."
    )
    claims: list[MedicalClaim] = strawberry.field(
        description="Claims settled in the last 24 months, oldest first."
    )
    assistance_payments: list[MedicalAssistancePayment] = strawberry.field(
        description="医疗救助: medical assistance payments, oldest first."
    )

    @classmethod
    def from_record(cls, r: hi.MedicalRecord) -> MedicalInsuredPerson:
        return cls(
            id_number=r.id_number,
            scheme=r.scheme,
            insured_since=r.insured_since,
            premium_year=r.premium_year,
            annual_premium=r.annual_premium,
            subsidised_premium=r.subsidised_premium,
            personal_premium=r.personal_premium,
            claims=[MedicalClaim.from_record(c) for c in r.claims],
            assistance_payments=[MedicalAssistancePayment.from_record(p) for p in r.assistance],
        )


@strawberry.type(description="What health insurance (医保) holds about the household's members.")
class MedicalSection:
    insured: list[MedicalInsuredPerson] = strawberry.field(
        description="Members insured in Shanghai, in household order."
    )
    uninsured_id_numbers: list[str] = strawberry.field(
        description="未参保: members health insurance does not know, in household order."
    )
    total_cost: Decimal = strawberry.field(
        description="Medical costs of all members' claims over the last 24 months, yuan."
    )
    total_out_of_pocket: Decimal = strawberry.field(
        description="What the members paid themselves of those costs (个人负担), yuan."
    )
    total_assistance: Decimal = strawberry.field(
        description="医疗救助: medical assistance paid to the members, yuan."
    )
    serious_illness: bool = strawberry.field(
        description="Whether any member had a serious-illness (大病) claim."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[hi.MedicalRecord]]
    ) -> MedicalSection:
        people = list(dict.fromkeys(member_ids))
        # A person's record is listed under their own ID number; take it once.
        found = list(dict.fromkeys(r for i in people for r in records.get(i, ())))
        insured_ids = {r.id_number for r in found}
        claims = [c for r in found for c in r.claims]
        return cls(
            insured=[MedicalInsuredPerson.from_record(r) for r in found],
            uninsured_id_numbers=[i for i in people if i not in insured_ids],
            total_cost=_sum(c.total_cost for c in claims),
            total_out_of_pocket=_sum(c.out_of_pocket for c in claims),
            total_assistance=_sum(p.amount for r in found for p in r.assistance),
            serious_illness=any(c.serious_illness for c in claims),
        )


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))
