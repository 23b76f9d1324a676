from datetime import date
from decimal import Decimal

import httpx
import pytest

from adapters import idnumber
from adapters.education import (
    EducationAid,
    EducationAidKind,
    EducationDifficulty,
    SchoolStage,
    StudentRecord,
)
from adapters.records import age_on
from adapters.registry import Adapters
from adapters.sandbox.education import STAGE_AGES, students
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, Source
from tests.adapters.conftest import assert_bad_upstream_data, mocked
from tests.conftest import sandbox_url

SOURCE = Source.EDUCATION
# Unknown to the population, and the student of the wire samples below.
UNKNOWN = idnumber.make("310104", date(2014, 5, 6), 21)


@pytest.fixture(scope="module")
def expected(population: Population) -> dict[str, StudentRecord]:
    return students(population)


def _wire(**changes: object) -> dict[str, object]:
    aid: dict[str, object] = {
        "aidTypeCode": "QGZX",
        "amount": "472.50",
        "schoolYear": "2025-2026",
        "payDate": "20260325",
    }
    student = {
        "sfzh": UNKNOWN,
        "studentNo": "G" + UNKNOWN,
        "birthDate": "20140506",
        "stageCode": "21",
        "gradeNo": 1,
        "schoolName": "上海市徐汇区田林中学",
        "schoolRegionCode": "310104",
        "enrolDate": "20260901",
        "difficultyLevel": "1",
        "difficultyYear": "2026-2027",
        "aidItems": [
            aid,
            {
                "aidTypeCode": "SJSM",
                "amount": None,
                "schoolYear": "2026-2027",
                "payDate": "20260901",
            },
        ],
    }
    for key, value in changes.items():
        if key in aid:
            aid[key] = value
        else:
            student[key] = value
    return {"students": [student], "missing": []}


async def test_bureau_codes_dates_and_yuan_strings_become_hub_values():
    result = await mocked(SOURCE, _wire()).fetch([UNKNOWN])
    assert result[UNKNOWN] == [
        StudentRecord(
            id_number=UNKNOWN,
            student_number="G" + UNKNOWN,
            birth_date=date(2014, 5, 6),
            stage=SchoolStage.JUNIOR_SECONDARY,
            grade=1,
            school_name="上海市徐汇区田林中学",
            school_district=District.XUHUI,
            enrolled_on=date(2026, 9, 1),
            difficulty=EducationDifficulty.ESPECIALLY_DIFFICULT,
            difficulty_school_year="2026-2027",
            aid=(
                EducationAid(
                    EducationAidKind.WORK_STUDY, Decimal("472.50"), "2025-2026", date(2026, 3, 25)
                ),
                EducationAid(EducationAidKind.HOME_TEACHING, None, "2026-2027", date(2026, 9, 1)),
            ),
        )
    ]
    assert str(result[UNKNOWN][0].aid[0].amount) == "472.50"


async def test_cash_aid_comes_in_yuan_and_fen(adapters: Adapters, population: Population):
    result = await adapters[SOURCE].fetch([m.id_number for m in population.members()])
    aid = [a for records in result.values() for r in records for a in r.aid]
    amounts = [a.amount for a in aid if a.amount is not None]
    assert amounts
    assert all(a.as_tuple().exponent == -2 for a in amounts)


async def test_the_stand_in_lists_the_id_numbers_it_does_not_know(
    http: httpx.AsyncClient, expected: dict[str, StudentRecord]
):
    student = next(iter(expected))
    response = await http.post(
        sandbox_url(SOURCE) + "/api/students/lookup", json={"sfzhList": [UNKNOWN, student, UNKNOWN]}
    )
    body = response.json()
    assert [s["sfzh"] for s in body["students"]] == [student]
    assert body["missing"] == [UNKNOWN]


@pytest.mark.parametrize(
    "body",
    [
        {"students": []},  # no "missing"
        {"students": [{"sfzh": UNKNOWN}], "missing": []},
        _wire(birthDate="2014-05-06"),  # ISO where the bureau writes yyyymmdd
        _wire(payDate="20261340"),
        _wire(amount=472.5),  # a number where the bureau writes a string
        _wire(amount="472.5元"),
        _wire(schoolYear="2025-2027"),
        _wire(gradeNo="1"),
        _wire(schoolRegionCode="999999"),
    ],
)
async def test_a_malformed_body_is_bad_upstream_data(body: object):
    await assert_bad_upstream_data(SOURCE, body, UNKNOWN)


@pytest.mark.parametrize(
    "change", [{"stageCode": "51"}, {"difficultyLevel": "4"}, {"aidTypeCode": "JXJ"}]
)
async def test_an_unknown_code_is_bad_upstream_data(change: dict[str, object]):
    await assert_bad_upstream_data(SOURCE, _wire(**change), UNKNOWN)


LEVEL_OF = {
    AssistanceCategory.EXTREME_HARDSHIP: EducationDifficulty.ESPECIALLY_DIFFICULT,
    AssistanceCategory.MINIMUM_LIVING: EducationDifficulty.ESPECIALLY_DIFFICULT,
    AssistanceCategory.LOW_INCOME: EducationDifficulty.DIFFICULT,
    AssistanceCategory.EXPENDITURE_POVERTY: EducationDifficulty.DIFFICULT,
    AssistanceCategory.TEMPORARY: EducationDifficulty.SOMEWHAT_DIFFICULT,
}


def test_students_agree_with_civil_affairs(
    population: Population, expected: dict[str, StudentRecord]
):
    """Every student is a member with the same birth date, in the stage of their age at
    AS_OF; every child of compulsory age (6-14) is a student; schools below university are
    in the household's district; the difficulty level is the one the household's most
    severe active category gives (or none, if the family did not apply), and aid other than
    送教上门 goes only with a recognised difficulty; 送教上门 only to children aged 6-17
    with a grade 1-2 disability, 勤工助学 only in higher education."""
    for member in population.members():
        age = age_on(member.birth_date, AS_OF)
        student = expected.get(member.id_number)
        if 6 <= age <= 14:
            assert student is not None
        if student is None:
            continue
        household = population.by_id[member.household_id]
        assert student.birth_date == member.birth_date
        low, high = STAGE_AGES[student.stage]
        assert low <= age <= high
        assert student.enrolled_on == date(AS_OF.year - student.grade + 1, 9, 1)
        if student.stage is not SchoolStage.HIGHER:
            assert student.school_district is household.district
            assert household.district.name_zh in student.school_name
        held = [e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE]
        levels = [LEVEL_OF[c] for c in held]
        most_severe = min(levels, key=list(EducationDifficulty).index) if levels else None
        assert student.difficulty in (most_severe, None)
        for aid in student.aid:
            assert aid.paid_on <= AS_OF
            if aid.kind is EducationAidKind.HOME_TEACHING:
                assert member.disability_grade in (1, 2)
                assert 6 <= age <= 17
            else:
                assert student.difficulty is not None
            if aid.kind is EducationAidKind.WORK_STUDY:
                assert student.stage is SchoolStage.HIGHER


def test_only_school_age_members_appear_and_most_recognised_students_get_aid(
    population: Population, expected: dict[str, StudentRecord]
):
    members = list(population.members())
    ages = [age_on(m.birth_date, AS_OF) for m in members if m.id_number in expected]
    assert min(ages) >= 3
    assert max(ages) <= 22
    assert len(expected) < 0.3 * len(members)
    recognised = [s for s in expected.values() if s.difficulty is not None]
    helped = [s for s in recognised if any(a.amount for a in s.aid)]
    assert len(helped) == len(recognised) > 0
