"""A person, as civil affairs knows them."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry

from adapters.records import Member, age_on
from adapters.vocabulary import Relation, Sex, WorkAbility
from schema.context import Info

if TYPE_CHECKING:
    from schema.household import Household


@strawberry.type(description="A member of a household (家庭成员).")
class Person:
    record: strawberry.Private[Member]

    @strawberry.field(description="Citizen ID number (公民身份号码), 18 characters.")
    def id_number(self) -> str:
        return self.record.id_number

    @strawberry.field(description="Name (姓名).")
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="Sex (性别).")
    def sex(self) -> Sex:
        return self.record.sex

    @strawberry.field(description="Date of birth (出生日期).")
    def birth_date(self) -> date:
        return self.record.birth_date

    @strawberry.field(description="Age in full years today (Shanghai time).")
    def age(self, info: Info) -> int:
        return age_on(self.record.birth_date, info.context.today)

    @strawberry.field(description="Relation to the head of household (与户主关系).")
    def relation(self) -> Relation:
        return self.record.relation

    @strawberry.field(description="Disability grade 1 (most severe) to 4 (残疾等级); null if none.")
    def disability_grade(self) -> int | None:
        return self.record.disability_grade

    @strawberry.field(description="Whether the person has a chronic illness (慢性病).")
    def chronic_illness(self) -> bool:
        return self.record.chronic_illness

    @strawberry.field(description="Ability to work (劳动能力).")
    def work_ability(self) -> WorkAbility:
        return self.record.work_ability

    @strawberry.field(description="Whether the person is able to work, fully or partly.")
    def able_to_work(self) -> bool:
        return self.record.work_ability is not WorkAbility.NONE

    @strawberry.field(description="The household the person belongs to.")
    async def household(
        self, info: Info
    ) -> Annotated[Household, strawberry.lazy("schema.household")] | None:
        from schema.household import Household

        entry = await info.context.loaders.index_entry_by_id.load(self.record.household_id)
        return Household(entry=entry) if entry else None
