"""The emergency-management (应急管理) section of a household: disasters and relief."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import cast

import strawberry

from adapters import emergency_management as em
from adapters.emergency_management import DisasterDamageLevel, DisasterReliefStage, DisasterType
from adapters.vocabulary import District, Source
from schema.enums import described
from schema.policy import AMOUNT, ID_NUMBER, RULES_VERSION, F, S, field, section

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


@section(Source.EMERGENCY_MANAGEMENT)
@strawberry.type(description="A disaster event as emergency management catalogues it.")
class DisasterEvent:
    id: str = field(S, description="The bureau's event number (灾害事件编号).")
    type: DisasterType = field(S, description="Kind of disaster (灾种).")
    name: str = field(S, description="Event name, e.g. 台风“贝碧嘉”.")
    occurred_on: date = field(S, description="Date the disaster struck (发生日期).")
    districts: list[District] = field(S, description="Districts it hit (受灾区).")


@section(Source.EMERGENCY_MANAGEMENT)
@strawberry.type(description="One disaster relief payment (受灾人员救助款).")
class DisasterRelief:
    stage: DisasterReliefStage = field(F, description="Relief stage the payment belongs to.")
    amount: Decimal = field(F, AMOUNT, description="Amount paid, yuan.")
    paid_on: date = field(F, description="Date paid (发放日期).")


def _relief(root: em.DisasterRecord) -> list[DisasterRelief]:
    ordered = sorted(root.relief, key=lambda p: (p.paid_on, p.stage.value))
    return cast(list[DisasterRelief], ordered)


@section(Source.EMERGENCY_MANAGEMENT)
@strawberry.type(description="How one disaster hit the household (受灾户) and the relief paid.")
class DisasterImpact:
    event: DisasterEvent = field(S, description="The disaster.")
    head_id_number: str = field(
        F, ID_NUMBER, description="ID number of the head of the affected household (户主身份证号)."
    )
    member_id_numbers: list[str] = field(
        F, ID_NUMBER, description="ID numbers of everyone in the affected household, head first."
    )
    district: District = field(S, description="District where the household was hit.")
    damage_level: DisasterDamageLevel = field(S, description="Damage to the home (受灾程度).")
    relief: list[DisasterRelief] = field(
        F, description="Relief paid for this disaster, oldest first.", resolver=_relief
    )
    total_relief: Decimal = field(S, AMOUNT, description="All relief paid for it, yuan.")


@section(Source.EMERGENCY_MANAGEMENT)
@strawberry.type(description="应急管理: disasters that hit the household and the relief paid.")
class DisasterSection:
    impacts: list[DisasterImpact] = field(
        S, description="Each disaster that hit the household, most recent first."
    )
    total_relief: Decimal = field(
        S, AMOUNT, description="All disaster relief paid to the household, yuan."
    )
    last_disaster_on: date | None = field(
        S, description="Date of the most recent disaster, if any."
    )
    rules_version: str = field(S, description=RULES_VERSION)
