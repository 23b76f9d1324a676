"""The civil-affairs (民政) section of a household."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters import records
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, HukouType


@strawberry.type(description="A household's standing in one assistance category (救助类别).")
class Enrollment:
    category: AssistanceCategory = strawberry.field(description="The assistance category.")
    status: EnrollmentStatus = strawberry.field(description="Where the household stands in it.")
    since: date = strawberry.field(description="When the household entered the category.")
    monthly_amount: Decimal = strawberry.field(
        description="Monthly payment in yuan (for TEMPORARY, the one-off amount)."
    )
    income_stable: bool = strawberry.field(
        description="Whether household income is stable (收入稳定); sets the review cycle."
    )
    last_reviewed_on: date | None = strawberry.field(
        description="Date of the last review (动态管理复核), if any."
    )

    @classmethod
    def from_record(cls, e: records.Enrollment) -> Enrollment:
        return cls(
            category=e.category,
            status=e.status,
            since=e.since,
            monthly_amount=e.monthly_amount,
            income_stable=e.income_stable,
            last_reviewed_on=e.last_reviewed_on,
        )


@strawberry.type(description="What civil affairs (民政) holds about the household.")
class CivilAffairsSection:
    address: str = strawberry.field(description="Registered address (居住地址).")
    hukou_type: HukouType = strawberry.field(description="Household registration type.")
    enrollments: list[Enrollment] = strawberry.field(
        description="Assistance enrollments, current and past."
    )

    @classmethod
    def from_record(cls, h: records.Household) -> CivilAffairsSection:
        return cls(
            address=h.address,
            hukou_type=h.hukou_type,
            enrollments=[Enrollment.from_record(e) for e in h.enrollments],
        )
