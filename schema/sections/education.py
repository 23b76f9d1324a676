"""The education (教育) section of a household: students, schools and education aid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from adapters import education as edu
from adapters.education import EducationAidKind, EducationDifficulty, SchoolStage
from adapters.vocabulary import District, Source
from hub.households import facts
from schema.enums import described
from schema.policy import AMOUNT, ID_NUMBER, RULES_VERSION, F, S, field, section

described(
    SchoolStage,
    "Stage of education (学段).",
    {
        "PRESCHOOL": "学前教育: kindergarten, ages 3-5.",
        "PRIMARY": "小学: primary school.",
        "JUNIOR_SECONDARY": "初中: junior secondary school.",
        "SENIOR_SECONDARY": "普通高中: general senior secondary school.",
        "VOCATIONAL": "中等职业教育 (中职): secondary vocational school.",
        "HIGHER": "高等教育: university or college.",
    },
)

described(
    EducationDifficulty,
    "家庭经济困难认定: recognised family financial difficulty.",
    {
        "ESPECIALLY_DIFFICULT": "特别困难: especially difficult (特困, 低保 families).",
        "DIFFICULT": "困难: difficult (低收入, 支出型贫困 families).",
        "SOMEWHAT_DIFFICULT": "一般困难: somewhat difficult (e.g. after 临时救助).",
    },
)

described(
    EducationAidKind,
    "A kind of education aid (教育救助).",
    {
        "FEE_WAIVER": "减免: waiver of tuition, childcare or other school fees.",
        "GRANT": "助学金: student grant.",
        "LIVING_SUBSIDY": "生活补助: living subsidy.",
        "WORK_STUDY": "勤工助学: paid work-study (higher education).",
        "HOME_TEACHING": "送教上门: teachers teach a severely disabled child at home.",
    },
)


@section(Source.EDUCATION)
@strawberry.type(description="One item of education aid (教育救助) for a school year.")
class EducationAid:
    kind: EducationAidKind = field(F, description="The kind of aid.")
    amount: Decimal | None = field(
        F, AMOUNT, description="Amount in yuan; null for a service without payment (送教上门)."
    )
    school_year: str = field(F, description="School year (学年), e.g. 2026-2027.")
    paid_on: date = field(F, description="Date paid or granted.")


def _aid_total(root: edu.StudentRecord) -> Decimal:
    return facts.student_aid_total(root)


@section(Source.EDUCATION)
@strawberry.type(description="A household member who is a student (在籍学生).")
class EducationStudent:
    id_number: str = field(S, ID_NUMBER, description="Citizen ID number (公民身份号码).")
    student_number: str = field(F, description="Student registration number (学籍号).")
    stage: SchoolStage = field(S, description="Stage of education (学段).")
    grade: int = field(F, description="Year within the stage (年级), from 1.")
    school_name: str = field(F, description="School name (学校名称).")
    school_district: District = field(F, description="District the school is in.")
    enrolled_on: date = field(F, description="Date of entry to the stage (入学日期).")
    difficulty: EducationDifficulty | None = field(
        S, description="家庭经济困难认定: recognised difficulty level; null if not recognised."
    )
    difficulty_school_year: str | None = field(
        F, description="School year the difficulty is recognised for (认定学年)."
    )
    aid: list[EducationAid] = field(
        F, description="Education aid in this and the previous school year, oldest first."
    )
    aid_total: Decimal = field(
        S, AMOUNT, description="Cash aid listed, in yuan.", resolver=_aid_total
    )


@section(Source.EDUCATION)
@strawberry.type(description="What the education bureau (教育) holds about the household.")
class EducationSection:
    students: list[EducationStudent] = field(
        S, description="Members who are students, in household order."
    )
    difficulty: EducationDifficulty | None = field(
        S, description="The most severe difficulty recognised for any student; null if none."
    )
    aid_total: Decimal = field(
        S,
        AMOUNT,
        description="Cash education aid to all students, this and last school year, yuan.",
    )
    home_teaching: bool = field(S, description="Whether any student is taught at home (送教上门).")
    rules_version: str = field(S, description=RULES_VERSION)
