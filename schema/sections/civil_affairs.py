"""The civil-affairs (民政) section of a household."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, HukouType, Source
from schema.policy import ADDRESS, AMOUNT, F, S, field, section


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A household's standing in one assistance category (救助类别).")
class Enrollment:
    category: AssistanceCategory = field(S, description="The assistance category.")
    status: EnrollmentStatus = field(S, description="Where the household stands in it.")
    since: date = field(S, description="When the household entered the category.")
    monthly_amount: Decimal = field(
        S, AMOUNT, description="Monthly payment in yuan (for TEMPORARY, the one-off amount)."
    )
    income_stable: bool = field(
        F, description="Whether household income is stable (收入稳定); sets the review cycle."
    )
    last_reviewed_on: date | None = field(
        F, description="Date of the last review (动态管理复核), if any."
    )


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="What civil affairs (民政) holds about the household.")
class CivilAffairsSection:
    address: str = field(S, ADDRESS, description="Registered address (居住地址).")
    hukou_type: HukouType = field(S, description="Household registration type.")
    enrollments: list[Enrollment] = field(
        S, description="Assistance enrollments, current and past."
    )
