"""The hub's record types: what leaves an adapter, whatever the department's wire format.

Records are small frozen dataclasses in the hub's vocabulary: enums, ISO dates,
amounts in yuan as Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    WorkAbility,
)


def age_on(birth: date, day: date) -> int:
    """Age in full years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class Member:
    """A person as civil affairs knows them, within their household.

    ``care_subsidy`` is the severe-disability care subsidy (重残无业人员护理补贴) civil affairs
    pays the member, in yuan a month; None when none is paid (or the department does not
    say).
    """

    id_number: str
    name: str
    sex: Sex
    birth_date: date
    relation: Relation
    disability_grade: int | None
    chronic_illness: bool
    work_ability: WorkAbility
    household_id: str
    care_subsidy: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A household's standing in one assistance category."""

    category: AssistanceCategory
    status: EnrollmentStatus
    since: date
    monthly_amount: Decimal
    income_stable: bool
    last_reviewed_on: date | None


@dataclass(frozen=True, slots=True)
class Household:
    """A civil-affairs household: members, place and assistance enrollments.

    ``assessed_monthly_income`` is the household's monthly income in yuan as civil affairs
    last assessed it (核定收入), on ``income_assessed_on``; both are None when the
    department holds no assessment. ``assessed_monthly_earnings`` is the part of that
    income earned from work (wages, flexible work), in yuan a month, at most the assessed
    income; None when the department holds no assessment or does not say.
    """

    id: str
    district: District
    street: str
    address: str
    hukou_type: HukouType
    members: tuple[Member, ...]
    enrollments: tuple[Enrollment, ...]
    updated_at: datetime
    assessed_monthly_income: Decimal | None = None
    income_assessed_on: date | None = None
    assessed_monthly_earnings: Decimal | None = None

    @property
    def head(self) -> Member:
        return next((m for m in self.members if m.relation is Relation.HEAD), self.members[0])


@dataclass(frozen=True, slots=True)
class HouseholdChange:
    """One entry of the civil-affairs change feed: a household as it now is, or removed."""

    household_id: str
    updated_at: datetime
    household: Household | None

    @property
    def removed(self) -> bool:
        return self.household is None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A page of the change feed; ``next_page_token`` is None on the last page."""

    changes: tuple[HouseholdChange, ...]
    next_page_token: str | None
