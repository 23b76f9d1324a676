"""The emergency-management (应急管理) section of a household: disasters and relief."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import emergency_management as em
from adapters.emergency_management import DisasterDamageLevel, DisasterReliefStage, DisasterType
from adapters.vocabulary import District
from schema.enums import described

described(
    DisasterType,
    "Kind of disaster (灾种).",
    {
        "TYPHOON": "台风: typhoon.",
        "FLOOD": "洪涝: flood, waterlogging.",
        "RAINSTORM": "暴雨: rainstorm.",
        "FIRE": "火灾: fire; hits a single household.",
        "OTHER": "其他: other disasters (cold wave, hail, gales...).",
    },
)

described(
    DisasterDamageLevel,
    "How badly the household's home was damaged (受灾程度).",
    {
        "MINOR": "轻微: minor damage.",
        "MODERATE": "一般损坏: moderate damage, repairable.",
        "SEVERE": "严重损坏: severe damage, home unlivable for a time.",
        "TOTAL_LOSS": "倒塌/全损: home destroyed, to be rebuilt.",
    },
)

described(
    DisasterReliefStage,
    "Stage of disaster relief (受灾人员救助).",
    {
        "EMERGENCY": "应急救助: emergency aid right after the disaster.",
        "TRANSITIONAL": "过渡期生活救助: living aid while the home is unlivable.",
        "RECONSTRUCTION": "恢复重建: aid to repair or rebuild the home.",
    },
)


@strawberry.type(description="A disaster event as emergency management catalogues it.")
class DisasterEvent:
    id: str = strawberry.field(description="The bureau's event number (灾害事件编号).")
    type: DisasterType = strawberry.field(description="Kind of disaster (灾种).")
    name: str = strawberry.field(description="Event name, e.g. 台风“贝碧嘉”.")
    occurred_on: date = strawberry.field(description="Date the disaster struck (发生日期).")
    districts: list[District] = strawberry.field(description="Districts it hit (受灾区).")

    @classmethod
    def from_record(cls, e: em.DisasterEvent) -> DisasterEvent:
        return cls(
            id=e.id,
            type=e.type,
            name=e.name,
            occurred_on=e.occurred_on,
            districts=list(e.districts),
        )


@strawberry.type(description="One disaster relief payment (受灾人员救助款).")
class DisasterRelief:
    stage: DisasterReliefStage = strawberry.field(
        description="Relief stage the payment belongs to."
    )
    amount: Decimal = strawberry.field(description="Amount paid, yuan.")
    paid_on: date = strawberry.field(description="Date paid (发放日期).")


@strawberry.type(description="How one disaster hit the household (受灾户) and the relief paid.")
class DisasterImpact:
    event: DisasterEvent = strawberry.field(description="The disaster.")
    head_id_number: str = strawberry.field(
        description="ID number of the head of the affected household (户主身份证号)."
    )
    member_id_numbers: list[str] = strawberry.field(
        description="ID numbers of everyone in the affected household, head first."
    )
    district: District = strawberry.field(description="District where the household was hit.")
    damage_level: DisasterDamageLevel = strawberry.field(
        description="Damage to the home (受灾程度)."
    )
    relief: list[DisasterRelief] = strawberry.field(
        description="Relief paid for this disaster, oldest first."
    )
    total_relief: Decimal = strawberry.field(description="All relief paid for it, yuan.")

    @classmethod
    def from_record(cls, r: em.DisasterRecord) -> DisasterImpact:
        return cls(
            event=DisasterEvent.from_record(r.event),
            head_id_number=r.head_id_number,
            member_id_numbers=list(r.member_id_numbers),
            district=r.district,
            damage_level=r.damage_level,
            relief=[
                DisasterRelief(stage=p.stage, amount=p.amount, paid_on=p.paid_on)
                for p in sorted(r.relief, key=lambda p: (p.paid_on, p.stage.value))
            ],
            total_relief=r.total_relief,
        )


@strawberry.type(description="应急管理: disasters that hit the household and the relief paid.")
class DisasterSection:
    impacts: list[DisasterImpact] = strawberry.field(
        description="Each disaster that hit the household, most recent first."
    )
    total_relief: Decimal = strawberry.field(
        description="All disaster relief paid to the household, yuan."
    )
    last_disaster_on: date | None = strawberry.field(
        description="Date of the most recent disaster, if any."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[em.DisasterRecord]]
    ) -> DisasterSection:
        # A household's record is listed under each of its members: keep it once.
        unique: dict[tuple[str, str], em.DisasterRecord] = {}
        for member_id in member_ids:
            for record in records.get(member_id, ()):
                unique.setdefault((record.event.id, record.head_id_number), record)
        ordered = sorted(
            unique.values(), key=lambda r: (r.event.occurred_on, r.event.id), reverse=True
        )
        return cls(
            impacts=[DisasterImpact.from_record(r) for r in ordered],
            total_relief=sum((r.total_relief for r in ordered), Decimal(0)),
            last_disaster_on=ordered[0].event.occurred_on if ordered else None,
        )
