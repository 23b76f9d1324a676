"""The human resources and social security (人社) section of a household."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import human_resources as hr
from adapters.human_resources import EmploymentServiceKind, EmploymentStatus, WageBand
from schema.enums import described

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


@strawberry.type(description="A public employment service a person received (就业援助).")
class EmploymentService:
    kind: EmploymentServiceKind = strawberry.field(description="What kind of service.")
    provided_on: date = strawberry.field(description="When it was provided or started.")


@strawberry.type(description="One member's employment and social insurance (就业和社会保险).")
class PersonEmployment:
    id_number: str = strawberry.field(description="Citizen ID number (公民身份号码).")
    status: EmploymentStatus = strawberry.field(description="Employment status.")
    wage_band: WageBand | None = strawberry.field(
        description="Wage band, for the employed and flexibly employed."
    )
    contribution_months: int = strawberry.field(
        description="社会保险缴费月数: months of social-insurance contributions in all."
    )
    last_contribution_month: date | None = strawberry.field(
        description="First day of the last month contributed for; null if never."
    )
    monthly_pension: Decimal | None = strawberry.field(
        description="养老金: monthly pension in yuan, for retirees."
    )
    unemployment_registered_on: date | None = strawberry.field(
        description="失业登记: date of unemployment registration, for the registered unemployed."
    )
    services: list[EmploymentService] = strawberry.field(
        description="Public employment services received, oldest first."
    )

    @classmethod
    def from_record(cls, r: hr.EmploymentRecord) -> PersonEmployment:
        return cls(
            id_number=r.id_number,
            status=r.status,
            wage_band=r.wage_band,
            contribution_months=r.contribution_months,
            last_contribution_month=r.last_contribution_month,
            monthly_pension=r.monthly_pension,
            unemployment_registered_on=r.unemployment_registered_on,
            services=[
                EmploymentService(kind=s.kind, provided_on=s.provided_on) for s in r.services
            ],
        )


_WORKING = (EmploymentStatus.EMPLOYED, EmploymentStatus.FLEXIBLE)


@strawberry.type(
    description="What human resources and social security (人社) holds about the household."
)
class EmploymentSection:
    members: list[PersonEmployment] = strawberry.field(
        description="Members the bureau has a record of (people aged 16 and over), in order."
    )
    zero_employment: bool = strawberry.field(
        description="零就业家庭: some member is registered unemployed and none is employed "
        "or in flexible employment."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[hr.EmploymentRecord]]
    ) -> EmploymentSection:
        unique = {r.id_number: r for m in member_ids for r in records.get(m, ())}
        statuses = {r.status for r in unique.values()}
        return cls(
            members=[PersonEmployment.from_record(r) for r in unique.values()],
            zero_employment=EmploymentStatus.REGISTERED_UNEMPLOYED in statuses
            and not statuses.intersection(_WORKING),
        )
