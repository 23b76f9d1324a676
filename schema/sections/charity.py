"""The charity (慈善) section of a household: aid from charities (社会力量救助).

The section holds the charity department's own records and the aid charities recorded
through the hub (``recordCharityAid``), each grant with its provenance; it is served
from ``hub.coordination.charity.CharityRecord``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.charity import CharityAidKind, CharityOrganisationKind, CharityRecipient
from adapters.vocabulary import Source
from hub.coordination.charity import AidProvenance
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

described(
    AidProvenance,
    "Where a record of charity aid comes from.",
    {
        "CHARITY_DEPARTMENT": "The charity federation's own records (慈善部门记录).",
        "HUB": "Recorded by a charity through the hub (recordCharityAid).",
    },
    name="CharityAidProvenance",
)


@section(Source.CHARITY)
@strawberry.type(description="One grant of charity aid (慈善救助) to a person or a household.")
class CharityAidGiven:
    id: str = field(
        S,
        description="The federation's aid record number, or the hub's ID of aid recorded "
        "through it.",
    )
    beneficiary_id_number: str | None = field(
        S,
        ID_NUMBER,
        name="idNumber",
        description="ID number of the person aided, or of the head for household aid; null "
        "for aid recorded through the hub, which goes to the household.",
    )
    recipient: CharityRecipient = field(S, description="A person or the household.")
    organisation_id: str = field(S, description="The giving organisation's ID.")
    organisation_name: str = field(
        S,
        description="The giving organisation, e.g. 上海市慈善基金会 (for aid recorded through "
        "the hub: the recording charity client's name, or its organisation ID).",
    )
    project_id: str | None = field(
        S, description="The charity project's ID; null for aid recorded through the hub."
    )
    project_name: str = field(S, description="The charity project, e.g. 慈善助学.")
    kind: CharityAidKind = field(S, description="What was given.")
    # Charities coordinate with each other, so they see the aid record in full.
    amount: Decimal = field(S, description="Amount or value in yuan.")
    given_on: date = field(S, description="Date given.")
    provenance: AidProvenance = field(
        S, description="Where this record comes from: the charity department, or the hub."
    )


@section(Source.CHARITY)
@strawberry.type(description="慈善: aid charities gave the household and its members.")
class CharitySection:
    aid: list[CharityAidGiven] = field(
        S,
        description="Every grant to the household or a member, most recent first: the "
        "charity department's records and the aid recorded through the hub.",
    )
    total_amount: Decimal = field(
        S, description="All charity aid in yuan, from the department and through the hub."
    )
    last_given_on: date | None = field(S, description="Date of the most recent grant, if any.")
    rules_version: str = field(S, description=RULES_VERSION)
