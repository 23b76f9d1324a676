"""The vocabulary enums as GraphQL enums, each value described in the policy's words."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry

from adapters.vocabulary import (
    DISTRICT_NAMES,
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    Source,
    WorkAbility,
)
from hub.auth.principal import ClientKind, Purpose

E = TypeVar("E", bound=enum.Enum)


def described(
    cls: type[E], description: str, values: Mapping[str, str], *, name: str | None = None
) -> type[E]:
    """Register ``cls`` as a GraphQL enum (named ``name``, else as the class) with a
    description for every value."""
    missing = {m.name for m in cls} - set(values)
    if missing:
        raise ValueError(f"{cls.__name__}: no description for {sorted(missing)}")
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]
    return cls


described(
    Source,
    "A department system the hub reads from.",
    {
        "CIVIL_AFFAIRS": "民政: civil affairs — households, members, assistance enrollments.",
        "HEALTH_INSURANCE": "医保: health insurance — schemes, claims, medical assistance.",
        "EDUCATION": "教育: education — students, schools, education aid.",
        "HOUSING": "住房: housing — dwellings, low-rent housing, renovation subsidies.",
        "HUMAN_RESOURCES": "人社: human resources and social security — employment, pensions.",
        "EMERGENCY_MANAGEMENT": "应急管理: emergency management — disasters and relief.",
        "CHARITY": "慈善: charities — organisations, projects and aid given.",
    },
)

described(
    District,
    "A Shanghai district (区), valued by its GB/T 2260 region code.",
    {d.name: f"{DISTRICT_NAMES[d]} ({d.code})" for d in District},
)

described(
    AssistanceCategory,
    "A social-assistance category held by civil affairs.",
    {
        "MINIMUM_LIVING": "最低生活保障 (低保): monthly cash for households under the standard.",
        "EXTREME_HARDSHIP": "特困人员救助供养 (特困): support for people with no ability to work, "
        "no income and no one legally bound to support them.",
        "LOW_INCOME": "低收入困难家庭 (低收入): households just above the 低保 standard.",
        "EXPENDITURE_POVERTY": "支出型贫困家庭 (支出型贫困): households whose rigid spending, "
        "medical bills above all, pushes them under the line.",
        "TEMPORARY": "临时救助: one-off emergency aid, urgent (急难型) "
        "or spending-driven (支出型).",
    },
)

described(
    EnrollmentStatus,
    "Where a household stands in an assistance category.",
    {
        "ACTIVE": "在保: receiving assistance.",
        "PENDING": "审核中: applied, under investigation or public notice.",
        "SUSPENDED": "暂停: payment suspended pending review.",
        "TERMINATED": "终止: no longer in the category.",
    },
)

described(
    Sex,
    "Sex as recorded on the ID number (性别).",
    {
        "MALE": "男",
        "FEMALE": "女",
    },
)

described(
    Relation,
    "A member's relation to the head of household (与户主关系, GB/T 4761).",
    {
        "HEAD": "户主: head of household.",
        "SPOUSE": "配偶: spouse.",
        "CHILD": "子女: child.",
        "GRANDCHILD": "孙子女: grandchild.",
        "PARENT": "父母: parent.",
        "GRANDPARENT": "祖父母: grandparent.",
        "SIBLING": "兄弟姐妹: sibling.",
        "OTHER": "其他.",
    },
)

described(
    HukouType,
    "Household registration type (户籍类型).",
    {
        "URBAN": "城镇户籍 (非农业).",
        "RURAL": "农村户籍 (农业).",
    },
)

described(
    WorkAbility,
    "Ability to work as assessed by civil affairs (劳动能力).",
    {
        "FULL": "有劳动能力: able to work.",
        "PARTIAL": "部分劳动能力: partly able to work.",
        "NONE": "无劳动能力: unable to work (minors, the elderly, severe disability).",
    },
)

described(
    Purpose,
    "Why a request is made (X-Purpose header), recorded with every access.",
    {
        "CASE_MANAGEMENT": "个案管理: managing a household's case.",
        "ELIGIBILITY_REVIEW": "资格审核: reviewing eligibility (动态管理复核).",
        "PROACTIVE_OUTREACH": "主动发现: finding households in need before they apply.",
        "CHARITY_MATCHING": "慈善对接: matching a household with charity aid.",
        "CROSS_REGION_CHECK": "长三角协查: a partner region's cross-region question.",
        "AUDIT": "审计: reviewing who saw what.",
        "OPERATIONS": "运维: running the hub.",
    },
)

described(
    ClientKind,
    "What sort of organisation a client of the hub is.",
    {
        "AGENCY": "政府部门: a department's caseworkers, optionally limited to an area.",
        "CHARITY": "慈善组织: a charity organisation; consented households only.",
        "PARTNER": "长三角伙伴地区: a partner region; cross-region questions only.",
        "AUDITOR": "审计: reads the disclosure log.",
        "OPERATOR": "运维: runs the hub.",
    },
)
