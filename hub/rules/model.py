"""The rules file's shape: pydantic models that validate it and answer questions from it.

Every model is frozen and forbids unknown keys, so that a misspelt key is an error and not
a threshold silently left at a default. Descriptions are what ``hub rules show`` prints.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from adapters.human_resources import EmploymentStatus
from adapters.vocabulary import AssistanceCategory


def _number(value: Any) -> Any:
    # Decimal would take "1160" or True; an amount written as a string in TOML is a typo.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "must be a number")
    return value


def problem(message: str, *at: str | int) -> PydanticCustomError:
    """A validation problem, placed ``at`` a path below the value being validated.

    Pydantic places a validator's error on the value it validates; ``at`` lets the
    message name the entry inside it (``standard[2].from``), which the loader appends.
    """
    return PydanticCustomError("rules", message, {"at": at})


Amount = Annotated[Decimal, BeforeValidator(_number), Field(gt=0)]
Multiple = Annotated[Decimal, BeforeValidator(_number), Field(ge=1)]
Share = Annotated[Decimal, BeforeValidator(_number), Field(gt=0, le=1)]
Count = Annotated[int, Field(strict=True, ge=1)]
Age = Annotated[int, Field(strict=True, ge=0, le=150)]
Text = Annotated[str, Field(strict=True, min_length=1)]
Day = Annotated[date, Field(strict=True)]
Grade = Annotated[int, Field(strict=True, ge=1, le=4)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dated(_Section):
    """An amount in force from ``effective_from`` (``from`` in the file) until the next one."""

    effective_from: Day = Field(alias="from")
    amount: Amount


class NotInForce(LookupError):
    """No entry of an effective-dated table is in force on the day asked about."""


def _in_order(entries: tuple[Dated, ...]) -> tuple[Dated, ...]:
    for i in range(1, len(entries)):
        before = entries[i - 1].effective_from
        if entries[i].effective_from <= before:
            raise problem(
                f"must be later than {before.isoformat()}, the entry before it "
                "(entries go oldest first)",
                i,
                "from",
            )
    return entries


DatedTable = Annotated[tuple[Dated, ...], Field(min_length=1), AfterValidator(_in_order)]


def in_force(table: Sequence[Dated], day: date, what: str) -> Decimal:
    """The amount of ``table`` in force on ``day``; raises ``NotInForce`` before the first."""
    found = None
    for entry in table:
        if entry.effective_from > day:
            break
        found = entry.amount
    if found is None:
        raise NotInForce(
            f"no {what} in force on {day.isoformat()}: "
            f"the table starts on {table[0].effective_from.isoformat()}"
        )
    return found


class MinimumLiving(_Section):
    """最低生活保障 (低保)."""

    standard: DatedTable = Field(
        description="低保 standard (最低生活保障标准), yuan per person per month"
    )


class LowIncome(_Section):
    """低收入困难家庭 (低收入)."""

    near_standard_multiple: Multiple = Field(
        description="per-capita income under this multiple of the 低保 standard (近低保)"
    )


class ExtremeHardship(_Section):
    """特困人员救助供养 (特困)."""

    basic_living_multiple: Multiple = Field(
        description="basic living standard as a multiple of the 低保 standard (基本生活标准)"
    )
    minor_age: Age = Field(description="minors (未成年人) are covered until this age")
    covered_in_full_time_schooling: bool = Field(
        strict=True, description="covered beyond minor_age while in full-time schooling"
    )
    minor_alert_days: Count = Field(
        description="days before a covered minor reaches minor_age to raise an alert"
    )

    def covers_minor(self, age: int, *, in_full_time_schooling: bool) -> bool:
        """Whether a person covered as a minor is still covered at ``age``."""
        return age < self.minor_age or (
            self.covered_in_full_time_schooling and in_full_time_schooling
        )


@dataclass(frozen=True, slots=True)
class ReviewCycle:
    """How often an enrollment is reviewed (动态管理复核), and why, in words."""

    months: int
    reason: str

    def due_after(self, reviewed_on: date) -> date:
        """The day the next review falls due: ``months`` calendar months later.

        The day of the month is kept, or the month's last day when it is shorter
        (reviewed 31 August, due 28 or 29 February for a six-month cycle).
        """
        month0 = reviewed_on.month - 1 + self.months
        year, month = reviewed_on.year + month0 // 12, month0 % 12 + 1
        day = min(reviewed_on.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)


class Review(_Section):
    """The review cycle of one assistance category."""

    months: Count | None = Field(default=None, description="months between reviews")
    one_off: bool = Field(default=False, strict=True, description="one-off aid, never reviewed")
    reason: Text = Field(description="why, with the policy term")
    unstable_months: Count | None = Field(
        default=None,
        description="months between reviews when income is unstable and a member can work",
    )
    unstable_reason: Text | None = Field(default=None, description="why, for unstable income")

    @model_validator(mode="after")
    def _one_shape(self) -> Self:
        if self.one_off and self.months is not None:
            raise problem("give months or one_off = true, not both", "months")
        if not self.one_off and self.months is None:
            raise problem("missing (or one_off = true for aid that is never reviewed)", "months")
        if self.one_off and self.unstable_months is not None:
            raise problem("one-off aid has no review to shorten", "unstable_months")
        if (self.unstable_months is None) != (self.unstable_reason is None):
            missing = "unstable_reason" if self.unstable_reason is None else "unstable_months"
            raise problem("missing (unstable_months and unstable_reason go together)", missing)
        return self

    def cycle(self, *, income_stable: bool, able_to_work_member: bool) -> ReviewCycle | None:
        """The cycle for a household in this category; ``None`` for one-off aid."""
        if self.months is None:
            return None
        unstable = not income_stable and able_to_work_member
        if unstable and self.unstable_months is not None and self.unstable_reason is not None:
            return ReviewCycle(self.unstable_months, self.unstable_reason)
        return ReviewCycle(self.months, self.reason)


class Withdrawal(_Section):
    """救助渐退 (gradual withdrawal)."""

    max_months: Count = Field(
        description="months the benefit continues after income passes the standard"
    )


class IncomeExemption(_Section):
    """收入豁免 (income exemption)."""

    share: Share = Field(description="share of a member's new earnings disregarded")
    months: Count = Field(description="months the exemption lasts")


class Approval(_Section):
    """低保审核确认时限 (the 低保 approval clock)."""

    investigation_start_working_days: Count = Field(
        description="working days after the application within which investigation starts"
    )
    public_notice_days: Count = Field(description="days of public notice (公示)")
    total_working_days: Count = Field(description="working days for the whole process")
    refusal_notice_working_days: Count = Field(
        description="working days to give a refusal in writing, with reasons"
    )


class ChangeReport(_Section):
    """主动报告 (a household reports a change)."""

    review_within_days: Count = Field(description="days within which the review is brought forward")


class Referral(_Section):
    """转介 (a referral from one department to another)."""

    response_working_days: Count = Field(description="working days to respond")
    completion_days: Count = Field(description="days to complete")


class ZeroEmployment(_Section):
    """零就业家庭 (zero-employment household)."""

    working_age_from: Age = Field(description="working age starts at (法定劳动年龄)")
    working_age_to: Age = Field(description="working age ends at, inclusive")
    employed_statuses: Annotated[tuple[EmploymentStatus, ...], Field(min_length=1)] = Field(
        description="人社 employment statuses that count as employed"
    )

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.working_age_to < self.working_age_from:
            raise problem(
                f"must be at least working_age_from ({self.working_age_from})", "working_age_to"
            )
        return self

    def of_working_age(self, age: int) -> bool:
        """Whether ``age`` is within the working-age range."""
        return self.working_age_from <= age <= self.working_age_to

    def counts_as_employed(self, status: EmploymentStatus) -> bool:
        """Whether a member in ``status`` counts as employed."""
        return status in self.employed_statuses


class ExpenditurePoverty(_Section):
    """支出型贫困 and 大病 (serious illness): rigid medical spending."""

    medical_share_of_income: Share = Field(
        description="out-of-pocket medical costs over this share of household income"
    )
    window_months: Count = Field(description="months the costs and income are summed over")
    serious_illness_out_of_pocket: Amount = Field(
        description="out-of-pocket yuan in the window that mark a serious illness (大病)"
    )


class Housing(_Section):
    """住房困难 (housing hardship)."""

    floor_area_per_person: Amount = Field(description="floor area per person under this, m²")


class DisabilityCare(_Section):
    """重残无业人员护理补贴 (severe-disability care subsidy)."""

    subsidy: DatedTable = Field(description="subsidy, yuan a month")
    grades: Annotated[tuple[Grade, ...], Field(min_length=1)] = Field(
        description="disability grades (残疾等级) that qualify"
    )


class Disaster(_Section):
    """受灾人员救助 (disaster relief)."""

    transitional_relief_days: Count = Field(
        description="days after the event within which transitional relief is expected"
    )


class Alerts(_Section):
    """When the hub warns caseworkers."""

    withdrawal_end_days: Count = Field(
        description="days before a gradual-withdrawal period ends to warn"
    )
    review_overdue_grace_days: Annotated[int, Field(strict=True, ge=0)] = Field(
        description="days after a review falls due before it counts as overdue"
    )


class Rules(_Section):
    """Shanghai's assistance rules as one validated, frozen value.

    Attributes hold each section of the file; the methods answer the questions that
    depend on a date or a household. Build it with ``hub.rules.load``.
    """

    version: Text = Field(description="version of the rules")
    minimum_living: MinimumLiving = Field(description="最低生活保障 (低保)")
    low_income: LowIncome = Field(description="低收入困难家庭 (低收入)")
    extreme_hardship: ExtremeHardship = Field(description="特困人员救助供养 (特困)")
    review: dict[AssistanceCategory, Review] = Field(description="review cycles (动态管理)")
    withdrawal: Withdrawal = Field(description="救助渐退 (gradual withdrawal)")
    income_exemption: IncomeExemption = Field(description="收入豁免 (income exemption)")
    approval: Approval = Field(description="低保审核确认时限 (approval clock)")
    change_report: ChangeReport = Field(description="主动报告 (change reports)")
    referral: Referral = Field(description="转介 (referrals)")
    zero_employment: ZeroEmployment = Field(description="零就业家庭 (zero-employment household)")
    expenditure_poverty: ExpenditurePoverty = Field(description="支出型贫困 and 大病")
    housing: Housing = Field(description="住房困难 (housing hardship)")
    disability_care: DisabilityCare = Field(description="重残无业人员护理补贴")
    disaster: Disaster = Field(description="受灾人员救助 (disaster relief)")
    alerts: Alerts = Field(description="alerts for caseworkers")

    @field_validator("review")
    @classmethod
    def _every_category(
        cls, review: dict[AssistanceCategory, Review]
    ) -> dict[AssistanceCategory, Review]:
        missing = [c.value for c in AssistanceCategory if c not in review]
        if len(missing) == 1:
            raise problem("missing (every assistance category needs a review cycle)", missing[0])
        if missing:
            raise problem(
                f"missing {', '.join(missing)} (every assistance category needs a review cycle)"
            )
        return review

    def standard_on(self, day: date) -> Decimal:
        """The 低保 standard (yuan per person per month) in force on ``day``.

        Raises ``NotInForce`` for a day before the table's first entry: the hub has no
        standard to judge it by, and guessing one would misjudge a household.
        """
        return in_force(self.minimum_living.standard, day, "最低生活保障 standard")

    def near_standard_on(self, day: date) -> Decimal:
        """The 低收入 (near-低保) line on ``day``: the standard times the multiple."""
        return self.standard_on(day) * self.low_income.near_standard_multiple

    def extreme_hardship_standard_on(self, day: date) -> Decimal:
        """The 特困 basic living standard on ``day``: the 低保 standard times its multiple."""
        return self.standard_on(day) * self.extreme_hardship.basic_living_multiple

    def care_subsidy_on(self, day: date) -> Decimal:
        """The severe-disability care subsidy (yuan a month) in force on ``day``.

        Raises ``NotInForce`` before the table's first entry.
        """
        return in_force(self.disability_care.subsidy, day, "severe-disability care subsidy")

    def review_cycle(
        self, category: AssistanceCategory, *, income_stable: bool, able_to_work_member: bool
    ) -> ReviewCycle | None:
        """How often an enrollment in ``category`` is reviewed; ``None`` for one-off aid.

        ``income_stable`` and ``able_to_work_member`` matter where the file gives an
        ``unstable_months`` cycle (低保: every six months instead of yearly).
        """
        return self.review[category].cycle(
            income_stable=income_stable, able_to_work_member=able_to_work_member
        )
