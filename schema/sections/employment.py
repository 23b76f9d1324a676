"""The human resources and social security (人社) section of a household."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.human_resources import EmploymentServiceKind, EmploymentStatus, WageBand
from adapters.vocabulary import Source
from schema.enums import described
from schema.policy import ID_NUMBER, INCOME, RULES_VERSION, F, S, field, section

described(
    EmploymentStatus,
    "A person's employment status as 人社 records it (就业状态).",
    {
        "EMPLOYED": "就业: in employment with an employer.",
        "FLEXIBLE": "灵活就业: self-employed, part-time or gig work.",
        "REGISTERED_UNEMPLOYED": "登记失业: registered as unemployed and seeking work.",
        "NOT_IN_LABOUR_FORCE": "未就业: not in the labour force (studying, unable to work...).",
        "RETIRED": "退休: retired, drawing a pension.",
    },
)

described(
    WageBand,
    "Monthly wage relative to Shanghai's minimum wage (最低工资标准).",
    {
        "BELOW_MINIMUM": "Below the minimum wage (part-time or partial work).",
        "MINIMUM_TO_1_5X": "From the minimum wage to 1.5 times it.",
        "FROM_1_5X_TO_2X": "From 1.5 to 2 times the minimum wage.",
        "ABOVE_2X": "Above twice the minimum wage.",
    },
)

described(
    EmploymentServiceKind,
    "A public employment service (公共就业服务).",
    {
        "VOCATIONAL_TRAINING": "职业培训: vocational training.",
        "JOB_REFERRAL": "职业介绍: job referral.",
        "PUBLIC_WELFARE_POST": "公益性岗位: placement in a public-welfare post.",
    },
)


@section(Source.HUMAN_RESOURCES)
@strawberry.type(description="A public employment service a person received (就业援助).")
class EmploymentService:
    kind: EmploymentServiceKind = field(F, description="What kind of service.")
    provided_on: date = field(F, description="When it was provided or started.")


@section(Source.HUMAN_RESOURCES)
@strawberry.type(description="One member's employment and social insurance (就业和社会保险).")
class PersonEmployment:
    id_number: str = field(S, ID_NUMBER, description="Citizen ID number (公民身份号码).")
    status: EmploymentStatus = field(S, description="Employment status.")
    wage_band: WageBand | None = field(
        F, description="Wage band, for the employed and flexibly employed."
    )
    contribution_months: int = field(
        F, description="社会保险缴费月数: months of social-insurance contributions in all."
    )
    last_contribution_month: date | None = field(
        F, description="First day of the last month contributed for; null if never."
    )
    monthly_pension: Decimal | None = field(
        F, INCOME, description="养老金: monthly pension in yuan, for retirees."
    )
    unemployment_registered_on: date | None = field(
        F,
        description="失业登记: date of unemployment registration, for the registered unemployed.",
    )
    services: list[EmploymentService] = field(
        F, description="Public employment services received, oldest first."
    )


@section(Source.HUMAN_RESOURCES)
@strawberry.type(
    description="What human resources and social security (人社) holds about the household."
)
class EmploymentSection:
    members: list[PersonEmployment] = field(
        S, description="Members the bureau has a record of (people aged 16 and over), in order."
    )
    zero_employment: bool = field(
        S,
        description="零就业家庭: some member of working age (the rules' range) is able to "
        "work, and none of them is employed or in flexible employment.",
    )
    rules_version: str = field(S, description=RULES_VERSION)
