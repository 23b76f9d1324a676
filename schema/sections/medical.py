"""The health-insurance (医保) section of a household: insurance, claims, medical assistance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.health_insurance import MedicalAssistanceKind, MedicalClaimKind, MedicalScheme
from adapters.vocabulary import Source
from schema.enums import described
from schema.policy import AMOUNT, ID_NUMBER, RULES_VERSION, F, S, field, section

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


@section(Source.HEALTH_INSURANCE)
@strawberry.type(description="A settled medical claim (医保结算) of one insured person.")
class MedicalClaim:
    settlement_id: str = field(F, description="Settlement number (结算号).")
    settled_on: date = field(F, description="Date of settlement (结算日期).")
    kind: MedicalClaimKind = field(F, description="What the claim paid for.")
    total_cost: Decimal = field(F, AMOUNT, description="Total medical cost (医疗总费用), yuan.")
    reimbursed: Decimal = field(
        F, AMOUNT, description="Paid by the insurance funds (统筹基金支付), yuan."
    )
    out_of_pocket: Decimal = field(
        F,
        AMOUNT,
        description="Left for the person to pay (个人负担): total cost minus reimbursed, yuan.",
    )
    serious_illness: bool = field(F, description="Whether it is a serious illness (大病).")


@section(Source.HEALTH_INSURANCE)
@strawberry.type(description="医疗救助: a medical-assistance payment to one person.")
class MedicalAssistancePayment:
    paid_on: date = field(F, description="Date of payment.")
    kind: MedicalAssistanceKind = field(F, description="What the payment covered.")
    amount: Decimal = field(F, AMOUNT, description="Amount paid, yuan.")
    settlement_id: str | None = field(
        F, description="The claim it helped with (结算号), where the department records it."
    )


@section(Source.HEALTH_INSURANCE)
@strawberry.type(description="A household member insured in Shanghai (参保人).")
class MedicalInsuredPerson:
    id_number: str = field(F, ID_NUMBER, description="Citizen ID number (公民身份号码).")
    scheme: MedicalScheme = field(F, description="The scheme the person is in.")
    insured_since: date = field(F, description="Start of the current insurance.")
    premium_year: int = field(F, description="The year the premium is for (参保年度).")
    annual_premium: Decimal = field(
        F, AMOUNT, description="The person's own yearly contribution (个人缴费), yuan."
    )
    subsidised_premium: Decimal = field(
        F,
        AMOUNT,
        description="资助参保: the part of the contribution paid by medical assistance, yuan.",
    )
    personal_premium: Decimal = field(
        F, AMOUNT, description="What the person still pays: premium minus subsidy, yuan."
    )
    claims: list[MedicalClaim] = field(
        F, description="Claims settled in the last 24 months, oldest first."
    )
    assistance: list[MedicalAssistancePayment] = field(
        F,
        name="assistancePayments",
        description="医疗救助: medical assistance payments, oldest first.",
    )


@section(Source.HEALTH_INSURANCE)
@strawberry.type(description="What health insurance (医保) holds about the household's members.")
class MedicalSection:
    insured: list[MedicalInsuredPerson] = field(
        F, description="Members insured in Shanghai, in household order."
    )
    uninsured_id_numbers: list[str] = field(
        F,
        ID_NUMBER,
        description="未参保: members health insurance does not know, in household order.",
    )
    total_cost: Decimal = field(
        S, AMOUNT, description="Medical costs of all members' claims over the last 24 months, yuan."
    )
    total_out_of_pocket: Decimal = field(
        S, AMOUNT, description="What the members paid themselves of those costs (个人负担), yuan."
    )
    total_assistance: Decimal = field(
        S, AMOUNT, description="医疗救助: medical assistance paid to the members, yuan."
    )
    serious_illness: bool = field(
        S,
        description="大病: whether any member had a serious-illness claim, or the members' "
        "out-of-pocket costs passed the rules' amount for a serious illness.",
    )
    rules_version: str = field(S, description=RULES_VERSION)
