"""The education (教育) stand-in: students, their schools and education aid.

Its contract is the bureau's own: camelCase JSON keyed by ``sfzh`` (身份证号), the
bureau's stage codes (``01`` 学前, ``11`` 小学, ``21`` 初中, ``31`` 普通高中, ``32`` 中职,
``41`` 高校), difficulty levels ``1`` 特别困难 / ``2`` 困难 / ``3`` 一般困难, aid codes
``JM`` 减免 / ``ZXJ`` 助学金 / ``SHBZ`` 生活补助 / ``QGZX`` 勤工助学 / ``SJSM`` 送教上门,
every date a ``yyyymmdd`` string, amounts yuan strings (null for a service).

The data is derived from the civil-affairs population, with ages taken at AS_OF: every
child of compulsory age (6-14) is a student, most of preschool and upper-secondary age
are, and a share of young adults study at a university or college. Schools are in the
household's district, one per street and stage; children with a grade 1-2 disability
attend a special school, many of them taught at home (送教上门). The bureau recognises
financial difficulty from the household's active assistance: 特困 and 低保 especially
difficult, 低收入 and 支出型贫困 difficult, 临时救助 somewhat difficult.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.education import (
    EducationAid,
    EducationAidKind,
    EducationDifficulty,
    SchoolStage,
    StudentRecord,
)
from adapters.records import Household, Member, age_on
from adapters.sandbox.population import AS_OF, Population, rng_for
from adapters.sandbox.service import (
    StandInApp,
    error,
    health_route,
    keyed_stand_in,
    load_openapi,
    openapi_route,
    read_json_body,
)
from adapters.sandbox.store import KeyedStore
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

STAGE_CODES = {
    SchoolStage.PRESCHOOL: "01",
    SchoolStage.PRIMARY: "11",
    SchoolStage.JUNIOR_SECONDARY: "21",
    SchoolStage.SENIOR_SECONDARY: "31",
    SchoolStage.VOCATIONAL: "32",
    SchoolStage.HIGHER: "41",
}
DIFFICULTY_CODES = {
    EducationDifficulty.ESPECIALLY_DIFFICULT: "1",
    EducationDifficulty.DIFFICULT: "2",
    EducationDifficulty.SOMEWHAT_DIFFICULT: "3",
}
AID_CODES = {
    EducationAidKind.FEE_WAIVER: "JM",
    EducationAidKind.GRANT: "ZXJ",
    EducationAidKind.LIVING_SUBSIDY: "SHBZ",
    EducationAidKind.WORK_STUDY: "QGZX",
    EducationAidKind.HOME_TEACHING: "SJSM",
}

MAX_BATCH = 500
# Ages (at AS_OF, inclusive) and number of grades of each stage.
STAGE_AGES = {
    SchoolStage.PRESCHOOL: (3, 5),
    SchoolStage.PRIMARY: (6, 11),
    SchoolStage.JUNIOR_SECONDARY: (12, 14),
    SchoolStage.SENIOR_SECONDARY: (15, 17),
    SchoolStage.VOCATIONAL: (15, 18),
    SchoolStage.HIGHER: (18, 22),
}
GRADES = {
    SchoolStage.PRESCHOOL: 3,
    SchoolStage.PRIMARY: 6,
    SchoolStage.JUNIOR_SECONDARY: 3,
    SchoolStage.SENIOR_SECONDARY: 3,
    SchoolStage.VOCATIONAL: 3,
    SchoolStage.HIGHER: 4,
}
# The school year under way at AS_OF starts on 1 September.
SCHOOL_YEAR = AS_OF.year if AS_OF.month >= 9 else AS_OF.year - 1

LEVELS = (
    (
        frozenset((AssistanceCategory.EXTREME_HARDSHIP, AssistanceCategory.MINIMUM_LIVING)),
        EducationDifficulty.ESPECIALLY_DIFFICULT,
    ),
    (
        frozenset((AssistanceCategory.LOW_INCOME, AssistanceCategory.EXPENDITURE_POVERTY)),
        EducationDifficulty.DIFFICULT,
    ),
    (frozenset((AssistanceCategory.TEMPORARY,)), EducationDifficulty.SOMEWHAT_DIFFICULT),
)

_E, _D, _S = (
    EducationDifficulty.ESPECIALLY_DIFFICULT,
    EducationDifficulty.DIFFICULT,
    EducationDifficulty.SOMEWHAT_DIFFICULT,
)
# Yearly aid by stage: (kind, yuan by difficulty level, month and day paid).
_AidRule = tuple[EducationAidKind, dict[EducationDifficulty, int], int, int]
_COMPULSORY: tuple[_AidRule, ...] = (
    (EducationAidKind.LIVING_SUBSIDY, {_E: 1500, _D: 1000, _S: 500}, 10, 20),
    (EducationAidKind.FEE_WAIVER, {_E: 1200, _D: 800}, 9, 1),
)
AID_TABLE: dict[SchoolStage, tuple[_AidRule, ...]] = {
    SchoolStage.PRESCHOOL: ((EducationAidKind.FEE_WAIVER, {_E: 2400, _D: 1800, _S: 1200}, 9, 1),),
    SchoolStage.PRIMARY: _COMPULSORY,
    SchoolStage.JUNIOR_SECONDARY: _COMPULSORY,
    SchoolStage.SENIOR_SECONDARY: (
        (EducationAidKind.GRANT, {_E: 2500, _D: 2000, _S: 1500}, 10, 15),
        (EducationAidKind.FEE_WAIVER, {_E: 1800, _D: 1800}, 9, 1),
    ),
    SchoolStage.VOCATIONAL: (
        (EducationAidKind.FEE_WAIVER, {_E: 3500, _D: 3500, _S: 3500}, 9, 1),
        (EducationAidKind.GRANT, {_E: 2500, _D: 2000, _S: 1500}, 10, 15),
    ),
    SchoolStage.HIGHER: (
        (EducationAidKind.GRANT, {_E: 4400, _D: 3300, _S: 2200}, 10, 15),
        (EducationAidKind.FEE_WAIVER, {_E: 5000}, 9, 1),
    ),
}
WORK_STUDY_HOURLY = Decimal("22.5")

SCHOOL_PATTERNS = {
    SchoolStage.PRESCHOOL: ("{stem}幼儿园", "{stem}第二幼儿园", "{stem}中心幼儿园"),
    SchoolStage.PRIMARY: ("{stem}小学", "{stem}第一小学", "{stem}实验小学", "{stem}中心小学"),
    SchoolStage.JUNIOR_SECONDARY: ("{stem}中学", "{stem}初级中学", "{stem}实验学校"),
    SchoolStage.SENIOR_SECONDARY: ("{stem}高级中学", "第一中学", "第二中学", "实验中学"),
    SchoolStage.VOCATIONAL: ("职业技术学校", "中等职业技术学校", "职业教育中心"),
}
SPECIAL_SCHOOLS = ("辅读学校", "特殊教育学校")
UNIVERSITIES = (
    ("复旦大学", District.YANGPU),
    ("同济大学", District.YANGPU),
    ("上海理工大学", District.YANGPU),
    ("上海交通大学", District.MINHANG),
    ("华东师范大学", District.MINHANG),
    ("上海大学", District.BAOSHAN),
    ("上海师范大学", District.XUHUI),
    ("华东理工大学", District.XUHUI),
    ("东华大学", District.SONGJIANG),
    ("上海工程技术大学", District.SONGJIANG),
    ("上海海事大学", District.PUDONG),
    ("上海电力大学", District.PUDONG),
    ("上海第二工业大学", District.PUDONG),
    ("上海健康医学院", District.PUDONG),
    ("上海应用技术大学", District.FENGXIAN),
    ("上海城建职业学院", District.FENGXIAN),
    ("上海中侨职业技术大学", District.JINSHAN),
    ("上海政法学院", District.QINGPU),
    ("上海体育大学", District.YANGPU),
    ("上海财经大学", District.YANGPU),
    ("华东政法大学", District.CHANGNING),
    ("上海戏剧学院", District.JINGAN),
)


def _yuan(amount: int | Decimal) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))


def _level(household: Household) -> EducationDifficulty | None:
    held = {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}
    return next((level for categories, level in LEVELS if held & categories), None)


def _stage(rng: random.Random, age: int, severe: bool) -> SchoolStage | None:
    roll = rng.random()
    if 3 <= age <= 5:
        return SchoolStage.PRESCHOOL if roll < (0.6 if severe else 0.92) else None
    if 6 <= age <= 11:
        return SchoolStage.PRIMARY
    if 12 <= age <= 14:
        return SchoolStage.JUNIOR_SECONDARY
    if 15 <= age <= 17 and roll < 0.95:
        vocational = severe or rng.random() < 0.45
        return SchoolStage.VOCATIONAL if vocational else SchoolStage.SENIOR_SECONDARY
    if age == 18 and roll < 0.2:
        return SchoolStage.VOCATIONAL
    if 18 <= age <= 22 and roll < (0.1 if severe else 0.45 if age == 18 else 0.35):
        return SchoolStage.HIGHER
    return None


def _stem(street: str) -> str:
    """The place name of a street or town: 真如镇街道 → 真如, 川沙新镇 → 川沙, 堡镇 stays."""
    stem = street
    while True:
        for suffix in ("街道", "新镇", "镇", "乡"):
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
                stem = stem.removesuffix(suffix)
                break
        else:
            return stem


def school_for(
    seed: int, household: Household, stage: SchoolStage, special: bool, rng: random.Random
) -> tuple[str, District]:
    """The school (name and district) a student of the household attends at ``stage``."""
    district = household.district
    if stage is SchoolStage.HIGHER:  # a university of the district if there is one, often
        near = [u for u in UNIVERSITIES if u[1] is district]
        return rng.choice(near if near and rng.random() < 0.6 else UNIVERSITIES)
    # One school per street and stage, so that neighbours and siblings share it.
    rng = rng_for(seed, "education", "school", household.street, stage.value)
    if special:
        return f"上海市{district.name_zh}{rng.choice(SPECIAL_SCHOOLS)}", district
    pattern = rng.choice(SCHOOL_PATTERNS[stage])
    return f"上海市{district.name_zh}{pattern.format(stem=_stem(household.street))}", district


def _aid_for_year(
    rng: random.Random,
    stage: SchoolStage,
    grade: int,
    level: EducationDifficulty | None,
    year: int,
    home_teaching: bool,
) -> list[EducationAid]:
    label = f"{year}-{year + 1}"
    items = []
    if home_teaching:
        items.append(EducationAid(EducationAidKind.HOME_TEACHING, None, label, date(year, 9, 1)))
    if level is None:
        return items
    for kind, amounts, month, day in AID_TABLE[stage]:
        skip_grant = stage is SchoolStage.VOCATIONAL and kind is EducationAidKind.GRANT
        if level in amounts and not (skip_grant and grade > 2):  # 中职助学金: first two years
            items.append(EducationAid(kind, _yuan(amounts[level]), label, date(year, month, day)))
    if stage is SchoolStage.HIGHER:
        if rng.random() < 0.4:
            for month in (10, 11, 12, 3, 4, 5, 6):
                pay = _yuan(WORK_STUDY_HOURLY * rng.randint(10, 40))
                paid = date(year if month >= 9 else year + 1, month, 25)
                items.append(EducationAid(EducationAidKind.WORK_STUDY, pay, label, paid))
        if rng.random() < 0.25:
            amount = _yuan(rng.choice((500, 800, 1000, 1500)))
            items.append(
                EducationAid(EducationAidKind.LIVING_SUBSIDY, amount, label, date(year, 10, 28))
            )
    return sorted((i for i in items if i.paid_on <= AS_OF), key=lambda i: i.paid_on)


def _student(seed: int, household: Household, member: Member) -> StudentRecord | None:
    rng = rng_for(seed, "education", member.id_number)
    age = age_on(member.birth_date, AS_OF)
    severe = member.disability_grade in (1, 2)
    stage = _stage(rng, age, severe)
    if stage is None:
        return None
    grade = min(GRADES[stage], age - STAGE_AGES[stage][0] + 1)
    special = severe and 6 <= age <= 17
    home_teaching = special and rng.random() < 0.6
    school, school_district = school_for(seed, household, stage, special, rng)
    level = _level(household) if rng.random() < 0.9 else None  # some families never apply
    aid = _aid_for_year(rng, stage, grade, level, SCHOOL_YEAR, home_teaching)
    if grade > 1:  # last year's aid, in the same stage
        aid = _aid_for_year(rng, stage, grade - 1, level, SCHOOL_YEAR - 1, home_teaching) + aid
    entered = SCHOOL_YEAR - grade + 1
    number = (
        f"{entered}{rng.randint(100000, 999999)}"
        if stage is SchoolStage.HIGHER
        else "G" + member.id_number
    )
    return StudentRecord(
        id_number=member.id_number,
        student_number=number,
        birth_date=member.birth_date,
        stage=stage,
        grade=grade,
        school_name=school,
        school_district=school_district,
        enrolled_on=date(entered, 9, 1),
        difficulty=level,
        difficulty_school_year=f"{SCHOOL_YEAR}-{SCHOOL_YEAR + 1}" if level else None,
        aid=tuple(aid),
    )


def students(population: Population) -> dict[str, StudentRecord]:
    """Every student of the population, by ID number, as the hub should read them."""
    result = {}
    for household in population.households:
        for member in household.members:
            record = _student(population.seed, household, member)
            if record is not None:
                result[member.id_number] = record
    return result


def student_json(s: StudentRecord) -> dict[str, Any]:
    return {
        "sfzh": s.id_number,
        "studentNo": s.student_number,
        "birthDate": f"{s.birth_date:%Y%m%d}",
        "stageCode": STAGE_CODES[s.stage],
        "gradeNo": s.grade,
        "schoolName": s.school_name,
        "schoolRegionCode": s.school_district.code,
        "enrolDate": f"{s.enrolled_on:%Y%m%d}",
        "difficultyLevel": DIFFICULTY_CODES[s.difficulty] if s.difficulty else None,
        "difficultyYear": s.difficulty_school_year,
        "aidItems": [
            {
                "aidTypeCode": AID_CODES[a.kind],
                "amount": None if a.amount is None else f"{a.amount:.2f}",
                "schoolYear": a.school_year,
                "payDate": f"{a.paid_on:%Y%m%d}",
            }
            for a in s.aid
        ],
    }


def _scenario_entries(scenario: Scenario) -> dict[str, dict[str, Any]]:
    return {s.id_number: student_json(s) for entry in scenario.households for s in entry.education}


def _routes(found: KeyedStore[dict[str, Any]]) -> list[BaseRoute]:
    async def lookup(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("sfzhList") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return error(400, "PARAM_ERROR", "sfzhList must be a list of strings")
        if len(ids) > MAX_BATCH:
            return error(400, "PARAM_ERROR", f"sfzhList holds at most {MAX_BATCH}")
        asked = {i: found.get(i) for i in ids}
        return JSONResponse(
            {
                "students": [s for s in asked.values() if s is not None],
                "missing": [i for i, s in asked.items() if s is None],
            }
        )

    return [
        Route("/api/students/lookup", lookup, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    found = {key: student_json(s) for key, s in students(population).items()}
    return keyed_stand_in(population, found, _scenario_entries, _routes)


OPENAPI = load_openapi("education")
