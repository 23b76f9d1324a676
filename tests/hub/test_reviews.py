"""The review cycle (动态管理) and what counts as a change, without GraphQL."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters import idnumber, records
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    WorkAbility,
)
from hub.coordination.reviews import ChangeKind, cycles, feed_changes
from hub.rules import default_rules

RULES = default_rules()
C = AssistanceCategory


def _household(
    *enrollments: tuple[AssistanceCategory, bool, EnrollmentStatus],
    ability: WorkAbility = WorkAbility.FULL,
    income: str | None = "1000",
    street: str = "花木街道",
) -> records.Household:
    member = records.Member(
        id_number=idnumber.make("310115", date(1980, 1, 1), 11),
        name="王一",
        sex=Sex.MALE,
        birth_date=date(1980, 1, 1),
        relation=Relation.HEAD,
        disability_grade=None,
        chronic_illness=False,
        work_ability=ability,
        household_id="H3101150000001",
    )
    return records.Household(
        id="H3101150000001",
        district=District.PUDONG,
        street=street,
        address=street,
        hukou_type=HukouType.URBAN,
        members=(member,),
        enrollments=tuple(
            records.Enrollment(c, status, date(2025, 1, 1), Decimal(0), stable, None)
            for c, stable, status in enrollments
        ),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        assessed_monthly_income=Decimal(income) if income is not None else None,
    )


ACTIVE = EnrollmentStatus.ACTIVE


@pytest.mark.parametrize(
    ("category", "stable", "ability", "months"),
    [
        (C.LOW_INCOME, True, WorkAbility.FULL, 3),
        (C.EXPENDITURE_POVERTY, False, WorkAbility.NONE, 3),
        (C.MINIMUM_LIVING, False, WorkAbility.FULL, 6),
        (C.MINIMUM_LIVING, False, WorkAbility.PARTIAL, 6),
        (C.MINIMUM_LIVING, False, WorkAbility.NONE, 12),
        (C.MINIMUM_LIVING, True, WorkAbility.FULL, 12),
        (C.EXTREME_HARDSHIP, False, WorkAbility.NONE, 12),
    ],
)
def test_the_cycle_follows_the_rules(category, stable, ability, months):
    found = cycles(_household((category, stable, ACTIVE), ability=ability), RULES)
    assert found[category][1].months == months
    expected = RULES.review_cycle(
        category, income_stable=stable, able_to_work_member=ability is not WorkAbility.NONE
    )
    assert expected is not None
    assert found[category][1].reason == expected.reason


def test_one_off_aid_and_inactive_enrollments_are_not_reviewed():
    household = _household(
        (C.TEMPORARY, True, ACTIVE),
        (C.LOW_INCOME, True, EnrollmentStatus.SUSPENDED),
        (C.MINIMUM_LIVING, True, EnrollmentStatus.TERMINATED),
    )
    assert cycles(household, RULES) == {}


def test_a_change_of_members_place_or_income_is_noticed():
    household = _household((C.LOW_INCOME, True, ACTIVE), income="1200", street="塘桥街道")
    before = {
        "member_ids": "310115198001010011,310115200001010013",
        "district": "310115",
        "street": "花木街道",
        "income_fen": 100000,
    }
    assert feed_changes(before, household) == [
        ChangeKind.MEMBER_JOINED,
        ChangeKind.MEMBER_LEFT,
        ChangeKind.MOVED,
        ChangeKind.INCOME_CHANGE,
    ]
    same = {
        "member_ids": household.members[0].id_number,
        "district": "310115",
        "street": "塘桥街道",
        "income_fen": 120000,
    }
    assert feed_changes(same, household) == []
