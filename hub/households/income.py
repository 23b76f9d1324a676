"""A household's income as the rules count it: income exemption (收入豁免) and gradual
withdrawal (救助渐退), plain functions of civil affairs' assessment, human resources'
records and the rules.

- Income exemption: while a member's new employment is younger than the rules'
  ``income_exemption.months``, that share (``income_exemption.share``) of the household's
  earnings from work is disregarded, so that taking a job does not cost the benefit at
  once.
- Gradual withdrawal: a 低保 household whose counted income per person has passed the
  standard because a member found work keeps its benefit for a grace period of at most
  ``withdrawal.max_months`` from the day the work began.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from adapters import human_resources as hr
from adapters import records
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus
from hub.rules import Rules

CENT = Decimal("0.01")


def months_after(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class IncomeFacts:
    """The assessed income (核定收入) and what of it the rules count."""

    assessed: Decimal  # yuan a month, as civil affairs assessed it
    assessed_on: date | None
    earnings: Decimal  # the part earned from work
    disregarded: Decimal  # 收入豁免: the part of new earnings the rules leave out
    counted: Decimal  # assessed less disregarded
    per_person: Decimal
    standard: Decimal  # the 低保 standard in force, per person a month
    near_standard: Decimal  # the near-低保 line (低收入), per person a month
    new_work_since: date | None  # the earliest employment still within the exemption
    rules_version: str

    @property
    def under_standard(self) -> bool:
        return self.per_person < self.standard

    @property
    def under_near_standard(self) -> bool:
        return self.per_person < self.near_standard


def new_work(employment: Iterable[hr.EmploymentRecord], since: date) -> date | None:
    """The earliest start of work (employed, or flexible) on or after ``since``."""
    starts = [
        r.employed_since
        for r in employment
        if r.employed_since is not None and r.employed_since >= since
    ]
    return min(starts) if starts else None


def income(
    household: records.Household,
    employment: Iterable[hr.EmploymentRecord],
    rules: Rules,
    today: date,
) -> IncomeFacts | None:
    """The household's income as the rules count it; None without an assessment."""
    if household.assessed_monthly_income is None:
        return None
    assessed = household.assessed_monthly_income
    earnings = min(household.assessed_monthly_earnings or Decimal(0), assessed)
    exemption = rules.income_exemption
    started = new_work(employment, months_after(today, -exemption.months))
    disregarded = (
        (earnings * exemption.share).quantize(CENT, ROUND_HALF_UP) if started else Decimal(0)
    )
    counted = assessed - disregarded
    size = max(1, len(household.members))
    return IncomeFacts(
        assessed=assessed,
        assessed_on=household.income_assessed_on,
        earnings=earnings,
        disregarded=disregarded,
        counted=counted,
        per_person=(counted / size).quantize(CENT, ROUND_HALF_UP),
        standard=rules.standard_on(today),
        near_standard=rules.near_standard_on(today),
        new_work_since=started,
        rules_version=rules.version,
    )


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """救助渐退: the 低保 benefit continuing after income passed the standard through work."""

    category: AssistanceCategory
    since: date  # the day the work began
    ends_on: date  # at most the rules' months later
    monthly_amount: Decimal  # what is paid meanwhile: the benefit continues
    rules_version: str

    def ending_within(self, days: int, today: date) -> bool:
        return today <= self.ends_on <= today + timedelta(days=days)


def withdrawal(
    household: records.Household,
    employment: Iterable[hr.EmploymentRecord],
    facts: IncomeFacts | None,
    rules: Rules,
    today: date,
) -> Withdrawal | None:
    """The gradual withdrawal a 低保 household is in, if its counted income per person has
    passed the standard and a member's work began within the rules' grace period."""
    if facts is None or facts.under_standard:
        return None
    enrolled = next(
        (
            e
            for e in household.enrollments
            if e.category is AssistanceCategory.MINIMUM_LIVING
            and e.status is EnrollmentStatus.ACTIVE
        ),
        None,
    )
    if enrolled is None:
        return None
    months = rules.withdrawal.max_months
    started = new_work(employment, months_after(today, -months))
    if started is None:
        return None
    return Withdrawal(
        category=enrolled.category,
        since=started,
        ends_on=months_after(started, months),
        monthly_amount=enrolled.monthly_amount,
        rules_version=rules.version,
    )
