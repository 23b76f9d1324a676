"""The housing (住房) section of a household."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters.housing import HousingTenure
from adapters.vocabulary import District, Source
from schema.enums import described
from schema.policy import ADDRESS, AMOUNT, ID_NUMBER, RULES_VERSION, F, S, field, section

described(
    HousingTenure,
    "How a household holds the dwelling it lives in (住房性质).",
    {
        "OWNED": "自有住房: owned by a member of the household.",
        "PUBLIC_RENTAL": "公共租赁住房 (公租房): public rental housing.",
        "PRIVATE_RENTAL": "市场租赁住房: rented on the private market.",
        "RURAL_HOMESTEAD": "宅基地住房: a rural house on collective homestead land.",
    },
)


@section(Source.HOUSING)
@strawberry.type(description="廉租住房: low-rent housing assistance, a monthly rent subsidy.")
class LowRentHousing:
    since: date = field(S, description="When the assistance started.")
    monthly_rent_subsidy: Decimal = field(
        S, AMOUNT, description="租金补贴: monthly rent subsidy in yuan."
    )


@section(Source.HOUSING)
@strawberry.type(description="农村危旧房改造: a subsidy to renovate a dilapidated rural house.")
class RuralRenovation:
    year: int = field(S, description="Year the renovation was subsidised.")
    amount: Decimal = field(S, AMOUNT, description="One-off subsidy in yuan.")


@section(Source.HOUSING)
@strawberry.type(description="A dwelling (住房) as the housing bureau records it.")
class Dwelling:
    dwelling_id: str = field(
        F, description="The housing bureau's dwelling number (not the civil-affairs household ID)."
    )
    district: District = field(S, description="District (区) the dwelling is in.")
    address: str = field(S, ADDRESS, description="Address as the housing bureau records it.")
    floor_area: Decimal = field(S, description="建筑面积: floor area in square metres.")
    tenure: HousingTenure = field(S, description="How the household holds the dwelling.")
    occupants: list[str] = field(
        F,
        ID_NUMBER,
        name="occupantIdNumbers",
        description="Citizen ID numbers of everyone the bureau records as living there.",
    )
    low_rent: LowRentHousing | None = field(
        S, name="lowRentHousing", description="廉租住房: low-rent housing assistance, if any."
    )
    renovations: list[RuralRenovation] = field(
        S,
        name="ruralRenovations",
        description="农村危旧房改造: renovation subsidies granted for the dwelling.",
    )


@section(Source.HOUSING)
@strawberry.type(description="What the housing bureau (住房) holds about the household.")
class HousingSection:
    dwellings: list[Dwelling] = field(
        S, description="Dwellings where any member lives, each once, in member order."
    )
    floor_area_per_person: Decimal | None = field(
        S,
        description="Floor area per member of the dwelling most members live in, square "
        "metres; null if the bureau knows no dwelling.",
    )
    hardship: bool = field(
        S,
        description="住房困难: floor area per person under the rules' line, and no low-rent "
        "housing (廉租住房).",
    )
    rules_version: str = field(S, description=RULES_VERSION)
