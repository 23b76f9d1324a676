"""The housing (住房) section of a household."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import housing
from adapters.housing import HousingTenure
from adapters.vocabulary import District
from schema.enums import described

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


@strawberry.type(description="廉租住房: low-rent housing assistance, a monthly rent subsidy.")
class LowRentHousing:
    since: date = strawberry.field(description="When the assistance started.")
    monthly_rent_subsidy: Decimal = strawberry.field(
        description="租金补贴: monthly rent subsidy in yuan."
    )

    @classmethod
    def from_record(cls, r: housing.LowRentHousing) -> LowRentHousing:
        return cls(since=r.since, monthly_rent_subsidy=r.monthly_rent_subsidy)


@strawberry.type(description="农村危旧房改造: a subsidy to renovate a dilapidated rural house.")
class RuralRenovation:
    year: int = strawberry.field(description="Year the renovation was subsidised.")
    amount: Decimal = strawberry.field(description="One-off subsidy in yuan.")

    @classmethod
    def from_record(cls, r: housing.RuralRenovation) -> RuralRenovation:
        return cls(year=r.year, amount=r.amount)


@strawberry.type(description="A dwelling (住房) as the housing bureau records it.")
class Dwelling:
    dwelling_id: str = strawberry.field(
        description="The housing bureau's dwelling number (not the civil-affairs household ID)."
    )
    district: District = strawberry.field(description="District (区) the dwelling is in.")
    address: str = strawberry.field(description="Address as the housing bureau records it.")
    floor_area: Decimal = strawberry.field(description="建筑面积: floor area in square metres.")
    tenure: HousingTenure = strawberry.field(description="How the household holds the dwelling.")
    occupant_id_numbers: list[str] = strawberry.field(
        description="Citizen ID numbers of everyone the bureau records as living there."
    )
    low_rent_housing: LowRentHousing | None = strawberry.field(
        description="廉租住房: low-rent housing assistance, if any."
    )
    rural_renovations: list[RuralRenovation] = strawberry.field(
        description="农村危旧房改造: renovation subsidies granted for the dwelling."
    )

    @classmethod
    def from_record(cls, d: housing.Dwelling) -> Dwelling:
        return cls(
            dwelling_id=d.dwelling_id,
            district=d.district,
            address=d.address,
            floor_area=d.floor_area,
            tenure=d.tenure,
            occupant_id_numbers=list(d.occupants),
            low_rent_housing=LowRentHousing.from_record(d.low_rent) if d.low_rent else None,
            rural_renovations=[RuralRenovation.from_record(r) for r in d.renovations],
        )


@strawberry.type(description="What the housing bureau (住房) holds about the household.")
class HousingSection:
    dwellings: list[Dwelling] = strawberry.field(
        description="Dwellings where any member lives, each once, in member order."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[housing.Dwelling]]
    ) -> HousingSection:
        # A shared dwelling is listed under each member; show it once.
        unique = {d.dwelling_id: d for m in member_ids for d in records.get(m, ())}
        return cls(dwellings=[Dwelling.from_record(d) for d in unique.values()])
