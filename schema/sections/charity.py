"""The charity (慈善) section of a household: aid from charities (社会力量救助)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.charity import CharityAidKind, CharityOrganisationKind, CharityRecipient
from adapters.vocabulary import Source
from schema.enums import described
from schema.policy import ID_NUMBER, RULES_VERSION, S, field, section

described(
    CharityAidKind,
    "What a charity gave (救助形式).",
    {
        "CASH": "现金: cash.",
        "GOODS": "物资: goods, e.g. from a charity supermarket (慈善超市), valued in yuan.",
        "MEDICAL": "医疗: help with medical bills (助医, 大病帮扶).",
        "EDUCATION": "教育: help with schooling (助学).",
        "SERVICE": "服务/照护: services and care, valued in yuan.",
    },
)

described(
    CharityRecipient,
    "Whether aid went to one person or to the household.",
    {
        "PERSON": "个人: given to one person.",
        "HOUSEHOLD": "家庭: given to the household, recorded against its head.",
    },
)

described(
    CharityOrganisationKind,
    "Kind of charity organisation (慈善组织).",
    {
        "FOUNDATION": "基金会: a charitable foundation.",
        "BRANCH": "区代表处: a district office of the Shanghai Charity Foundation.",
        "CHARITY_SUPERMARKET": "慈善超市: a street-level charity supermarket.",
    },
)


@section(Source.CHARITY)
@strawberry.type(description="One grant of charity aid (慈善救助) to a person or a household.")
class CharityAidGiven:
    id: str = field(S, description="The federation's aid record number.")
    beneficiary_id_number: str = field(
        S,
        ID_NUMBER,
        name="idNumber",
        description="ID number of the person aided, or of the head for household aid.",
    )
    recipient: CharityRecipient = field(S, description="A person or the household.")
    organisation_id: str = field(S, description="The giving organisation's ID.")
    organisation_name: str = field(S, description="The giving organisation, e.g. 上海市慈善基金会.")
    project_id: str = field(S, description="The charity project's ID.")
    project_name: str = field(S, description="The charity project, e.g. 慈善助学.")
    kind: CharityAidKind = field(S, description="What was given.")
    # Charities coordinate with each other, so they see the aid record in full.
    amount: Decimal = field(S, description="Amount or value in yuan.")
    given_on: date = field(S, description="Date given.")


@section(Source.CHARITY)
@strawberry.type(description="慈善: aid charities gave the household and its members.")
class CharitySection:
    aid: list[CharityAidGiven] = field(
        S, description="Every grant to the household or a member, most recent first."
    )
    total_amount: Decimal = field(S, description="All charity aid in yuan.")
    last_given_on: date | None = field(S, description="Date of the most recent grant, if any.")
    rules_version: str = field(S, description=RULES_VERSION)
