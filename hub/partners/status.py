"""What this hub tells a partner region about a person: assisted here or not, in which
categories, since when; nothing more (no names, amounts, addresses or household details).

Answered from the household index (synced from civil affairs): a person is assisted when
their household has an active enrollment. One query for a whole batch, whatever it finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import AssistanceCategory, EnrollmentStatus
from hub.db.models import IndexedEnrollment, IndexedMember

MAX_PER_CALL = 100


@dataclass
class Standing:
    """One person's standing here, and the household it comes from (for the audit log)."""

    household_id: str
    categories: dict[AssistanceCategory, date] = field(default_factory=dict)

    @property
    def receives_assistance(self) -> bool:
        return bool(self.categories)


async def standing(
    sessions: async_sessionmaker[AsyncSession], id_numbers: Sequence[str]
) -> dict[str, Standing]:
    """The standing of each person among ``id_numbers`` this hub's index knows."""
    query = (
        select(
            IndexedMember.id_number,
            IndexedMember.household_id,
            IndexedEnrollment.category,
            IndexedEnrollment.since,
        )
        .outerjoin(
            IndexedEnrollment,
            and_(
                IndexedEnrollment.household_id == IndexedMember.household_id,
                IndexedEnrollment.status == EnrollmentStatus.ACTIVE.value,
            ),
        )
        .where(IndexedMember.id_number.in_(list(dict.fromkeys(id_numbers))))
    )
    found: dict[str, Standing] = {}
    async with sessions() as session:
        for id_number, household_id, category, since in await session.execute(query):
            person = found.setdefault(id_number, Standing(household_id))
            if category is not None:
                person.categories[AssistanceCategory(category)] = since
    return found
