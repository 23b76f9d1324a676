"""A person, as civil affairs knows them: served straight from the department's record."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from adapters.records import Member, age_on
from adapters.vocabulary import Relation, Sex, Source, WorkAbility
from schema.context import Info
from schema.policy import DATE_OF_BIRTH, ID_NUMBER, NAME, F, S, field, section

if TYPE_CHECKING:
    from schema.household import Household


def _age(root: Member, info: Info) -> int:
    return age_on(root.birth_date, info.context.today)


def _able_to_work(root: Member) -> bool:
    return root.work_ability is not WorkAbility.NONE


async def _household(
    root: Member, info: Info
) -> Annotated[Household, strawberry.lazy("schema.household")] | None:
    from schema.household import Household

    entry = await info.context.loaders.entry_by_id.load(root.household_id)
    return Household(entry=entry) if entry else None


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A member of a household (家庭成员).")
class Person:
    id_number: str = field(
        S, ID_NUMBER, description="Citizen ID number (公民身份号码), 18 characters."
    )
    name: str = field(S, NAME, description="Name (姓名).")
    sex: Sex = field(S, description="Sex (性别).")
    birth_date: date = field(F, DATE_OF_BIRTH, description="Date of birth (出生日期).")
    age: int = field(S, description="Age in full years today (Shanghai time).", resolver=_age)
    relation: Relation = field(S, description="Relation to the head of household (与户主关系).")
    disability_grade: int | None = field(
        F, description="Disability grade 1 (most severe) to 4 (残疾等级); null if none."
    )
    chronic_illness: bool = field(
        F, description="Whether the person has a chronic illness (慢性病)."
    )
    work_ability: WorkAbility = field(S, description="Ability to work (劳动能力).")
    able_to_work: bool = field(
        S,
        description="Whether the person is able to work, fully or partly.",
        resolver=_able_to_work,
    )
    household: Annotated[Household, strawberry.lazy("schema.household")] | None = field(
        S, description="The household the person belongs to.", resolver=_household
    )
