"""The education (教育) section of a household: students, schools and education aid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import strawberry

from adapters import education as edu
from adapters.education import EducationAidKind, EducationDifficulty, SchoolStage
from adapters.vocabulary import District
from schema.enums import described

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


@strawberry.type(description="One item of education aid (教育救助) for a school year.")
class EducationAid:
    kind: EducationAidKind = strawberry.field(description="The kind of aid.")
    amount: Decimal | None = strawberry.field(
        description="Amount in yuan; null for a service without payment (送教上门)."
    )
    school_year: str = strawberry.field(description="School year (学年), e.g. 2026-2027.")
    paid_on: date = strawberry.field(description="Date paid or granted.")

    @classmethod
    def from_record(cls, a: edu.EducationAid) -> EducationAid:
        return cls(kind=a.kind, amount=a.amount, school_year=a.school_year, paid_on=a.paid_on)


@strawberry.type(description="A household member who is a student (在籍学生).")
class EducationStudent:
    id_number: str = strawberry.field(description="Citizen ID number (公民身份号码).")
    student_number: str = strawberry.field(description="Student registration number (学籍号).")
    stage: SchoolStage = strawberry.field(description="Stage of education (学段).")
    grade: int = strawberry.field(description="Year within the stage (年级), from 1.")
    school_name: str = strawberry.field(description="School name (学校名称).")
    school_district: District = strawberry.field(description="District the school is in.")
    enrolled_on: date = strawberry.field(description="Date of entry to the stage (入学日期).")
    difficulty: EducationDifficulty | None = strawberry.field(
        description="家庭经济困难认定: recognised difficulty level; null if not recognised."
    )
    difficulty_school_year: str | None = strawberry.field(
        description="School year the difficulty is recognised for (认定学年)."
    )
    aid: list[EducationAid] = strawberry.field(
        description="Education aid in this and the previous school year, oldest first."
    )
    aid_total: Decimal = strawberry.field(description="Cash aid listed, in yuan.")

    @classmethod
    def from_record(cls, s: edu.StudentRecord) -> EducationStudent:
        return cls(
            id_number=s.id_number,
            student_number=s.student_number,
            stage=s.stage,
            grade=s.grade,
            school_name=s.school_name,
            school_district=s.school_district,
            enrolled_on=s.enrolled_on,
            difficulty=s.difficulty,
            difficulty_school_year=s.difficulty_school_year,
            aid=[EducationAid.from_record(a) for a in s.aid],
            aid_total=_cash(s.aid),
        )


# Enum order is most severe first.
_SEVERITY = list(EducationDifficulty)


@strawberry.type(description="What the education bureau (教育) holds about the household.")
class EducationSection:
    students: list[EducationStudent] = strawberry.field(
        description="Members who are students, in household order."
    )
    difficulty: EducationDifficulty | None = strawberry.field(
        description="The most severe difficulty recognised for any student; null if none."
    )
    aid_total: Decimal = strawberry.field(
        description="Cash education aid to all students, this and last school year, yuan."
    )
    home_teaching: bool = strawberry.field(
        description="Whether any student is taught at home (送教上门)."
    )

    @classmethod
    def from_records(
        cls, member_ids: Sequence[str], records: Mapping[str, Sequence[edu.StudentRecord]]
    ) -> EducationSection:
        # A student's record is listed under their own ID number; take it once.
        found = list(
            dict.fromkeys(r for i in dict.fromkeys(member_ids) for r in records.get(i, ()))
        )
        levels = [s.difficulty for s in found if s.difficulty is not None]
        return cls(
            students=[EducationStudent.from_record(s) for s in found],
            difficulty=min(levels, key=_SEVERITY.index) if levels else None,
            aid_total=sum((_cash(s.aid) for s in found), Decimal("0.00")),
            home_teaching=any(
                a.kind is EducationAidKind.HOME_TEACHING for s in found for a in s.aid
            ),
        )


def _cash(aid: Sequence[edu.EducationAid]) -> Decimal:
    return sum((a.amount for a in aid if a.amount is not None), Decimal("0.00"))
