"""The income assessment as the rules count it (收入豁免), and gradual withdrawal (救助渐退)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.vocabulary import AssistanceCategory, Source
from schema.policy import AMOUNT, INCOME, F, S, field, section


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="核定收入: the household's assessed income, as the rules count it.")
class IncomeAssessment:
    assessed: Decimal = field(F, INCOME, description="Assessed income, yuan a month.")
    assessed_on: date | None = field(S, description="When civil affairs assessed it.")
    earnings: Decimal = field(F, INCOME, description="The part earned from work, yuan a month.")
    disregarded: Decimal = field(
        F,
        INCOME,
        description="收入豁免: the part of new earnings the rules leave out, yuan a month.",
    )
    counted: Decimal = field(F, INCOME, description="What the rules count, yuan a month.")
    per_person: Decimal = field(F, INCOME, description="Counted income per member, yuan a month.")
    standard: Decimal = field(S, description="The 低保 standard in force, per person a month.")
    near_standard: Decimal = field(
        S, description="The near-低保 (低收入) line in force, per person a month."
    )
    under_standard: bool = field(
        S, description="Whether income per person is under the 低保 standard."
    )
    under_near_standard: bool = field(
        S, description="Whether income per person is under the near-低保 line."
    )
    new_work_since: date | None = field(
        S, description="When new work began that the exemption applies to, if any."
    )
    rules_version: str = field(S, description="The rules it was counted by.")


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(
    description="救助渐退: the benefit continuing for a while after work lifted income past the "
    "standard."
)
class GradualWithdrawal:
    category: AssistanceCategory = field(S, description="The enrollment it applies to (低保).")
    since: date = field(S, description="When the work began.")
    ends_on: date = field(S, description="When the grace period ends (at most the rules' months).")
    monthly_amount: Decimal = field(S, AMOUNT, description="What is paid meanwhile, yuan a month.")
    rules_version: str = field(S, description="The rules it was judged by.")
