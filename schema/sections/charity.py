"""The charity (慈善) section of a household: aid from charities (社会力量救助)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import charity
from adapters.charity import CharityAidKind, CharityOrganisationKind, CharityRecipient
from schema.enums import described

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


@strawberry.type(description="One grant of charity aid (慈善救助) to a person or a household.")
class CharityAidGiven:
    id: str = strawberry.field(description="The federation's aid record number.")
    id_number: str = strawberry.field(
        description="ID number of the person aided, or of the head for household aid."
    )
    recipient: CharityRecipient = strawberry.field(description="A person or the household.")
    organisation_id: str = strawberry.field(description="The giving organisation's ID.")
    organisation_name: str = strawberry.field(
        description="The giving organisation, e.g. 上海市慈善基金会."
    )
    project_id: str = strawberry.field(description="The charity project's ID.")
    project_name: str = strawberry.field(description="The charity project, e.g. 慈善助学.")
    kind: CharityAidKind = strawberry.field(description="What was given.")
    amount: Decimal = strawberry.field(description="Amount or value in yuan.")
    given_on: date = strawberry.field(description="Date given.")

    @classmethod
    def from_record(cls, a: charity.CharityAid) -> CharityAidGiven:
        return cls(
            id=a.id,
            id_number=a.beneficiary_id_number,
            recipient=a.recipient,
            organisation_id=a.organisation_id,
            organisation_name=a.organisation_name,
            project_id=a.project_id,
            project_name=a.project_name,
            kind=a.kind,
            amount=a.amount,
            given_on=a.given_on,
        )


@strawberry.type(description="慈善: aid charities gave the household and its members.")
class CharitySection:
    aid: list[CharityAidGiven] = strawberry.field(
        description="Every grant to the household or a member, most recent first."
    )
    total_amount: Decimal = strawberry.field(description="All charity aid in yuan.")
    last_given_on: date | None = strawberry.field(
        description="Date of the most recent grant, if any."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[charity.CharityAid]]
    ) -> CharitySection:
        # Household aid is listed under each member: keep it once.
        unique: dict[str, charity.CharityAid] = {}
        for member_id in member_ids:
            for record in records.get(member_id, ()):
                unique.setdefault(record.id, record)
        ordered = sorted(unique.values(), key=lambda a: (a.given_on, a.id), reverse=True)
        return cls(
            aid=[CharityAidGiven.from_record(a) for a in ordered],
            total_amount=sum((a.amount for a in ordered), Decimal(0)),
            last_given_on=ordered[0].given_on if ordered else None,
        )
