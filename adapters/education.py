"""Adapter for the education (教育) bureau's student system: students, schools, education aid.

Owns the bureau's wire format (see ``adapters/sandbox/education.py`` for the contract):
camelCase JSON keyed by ``sfzh`` (身份证号), the bureau's stage codes, dates as
``yyyymmdd`` strings, amounts as yuan strings. What leaves this module is the records
below, in the hub's vocabulary.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.base import Health
from adapters.http import SourceClient
from adapters.vocabulary import District, Source
from adapters.wire import chunks, reading


class SchoolStage(enum.Enum):
    """The stage of education a student is in (学段)."""

    PRESCHOOL = "PRESCHOOL"
    PRIMARY = "PRIMARY"
    JUNIOR_SECONDARY = "JUNIOR_SECONDARY"
    SENIOR_SECONDARY = "SENIOR_SECONDARY"
    VOCATIONAL = "VOCATIONAL"
    HIGHER = "HIGHER"


class EducationDifficulty(enum.Enum):
    """A student's recognised family financial difficulty (家庭经济困难认定), most severe first."""

    ESPECIALLY_DIFFICULT = "ESPECIALLY_DIFFICULT"
    DIFFICULT = "DIFFICULT"
    SOMEWHAT_DIFFICULT = "SOMEWHAT_DIFFICULT"


class EducationAidKind(enum.Enum):
    """A kind of education aid."""

    FEE_WAIVER = "FEE_WAIVER"
    GRANT = "GRANT"
    LIVING_SUBSIDY = "LIVING_SUBSIDY"
    WORK_STUDY = "WORK_STUDY"
    HOME_TEACHING = "HOME_TEACHING"


@dataclass(frozen=True, slots=True)
class EducationAid:
    """One item of aid for a school year; ``amount`` is None for a service (送教上门)."""

    kind: EducationAidKind
    amount: Decimal | None
    school_year: str
    paid_on: date


@dataclass(frozen=True, slots=True)
class StudentRecord:
    """A student as the education bureau knows them, this school year."""

    id_number: str
    student_number: str
    birth_date: date
    stage: SchoolStage
    grade: int
    school_name: str
    school_district: District
    enrolled_on: date
    difficulty: EducationDifficulty | None
    difficulty_school_year: str | None
    aid: tuple[EducationAid, ...]


_STAGE = {
    "01": SchoolStage.PRESCHOOL,
    "11": SchoolStage.PRIMARY,
    "21": SchoolStage.JUNIOR_SECONDARY,
    "31": SchoolStage.SENIOR_SECONDARY,
    "32": SchoolStage.VOCATIONAL,
    "41": SchoolStage.HIGHER,
}
_DIFFICULTY = {
    "1": EducationDifficulty.ESPECIALLY_DIFFICULT,
    "2": EducationDifficulty.DIFFICULT,
    "3": EducationDifficulty.SOMEWHAT_DIFFICULT,
}
_AID = {
    "JM": EducationAidKind.FEE_WAIVER,
    "ZXJ": EducationAidKind.GRANT,
    "SHBZ": EducationAidKind.LIVING_SUBSIDY,
    "QGZX": EducationAidKind.WORK_STUDY,
    "SJSM": EducationAidKind.HOME_TEACHING,
}
_YYYYMMDD = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YUAN = re.compile(r"\d+(\.\d{1,2})?")
_SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")


class EducationAdapter:
    """Students by ID number: one record each, or none if the person is not a student."""

    source = Source.EDUCATION

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[StudentRecord]]:
        found: dict[str, StudentRecord] = {}
        for chunk in chunks(keys):
            body = await self._http.post("/api/students/lookup", {"sfzhList": chunk})
            with reading(self.source):
                if not isinstance(body["missing"], list):
                    raise ValueError("missing is not a list")
                for item in body["students"]:
                    record = _student(item)
                    found[record.id_number] = record
        return {key: [found[key]] if key in found else [] for key in keys}

    async def health(self) -> Health:
        return await self._http.health()


def _date(value: Any) -> date:
    match = _YYYYMMDD.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("date is not yyyymmdd")
    return date(*map(int, match.groups()))


def _yuan(value: Any) -> Decimal:
    if not isinstance(value, str) or not _YUAN.fullmatch(value):
        raise ValueError("amount is not a yuan string")
    return Decimal(value)


def _school_year(value: Any) -> str:
    match = _SCHOOL_YEAR.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[2]) != int(match[1]) + 1:
        raise ValueError("school year is not yyyy-yyyy")
    return str(value)


def _aid(item: dict[str, Any]) -> EducationAid:
    amount = item["amount"]
    return EducationAid(
        kind=_AID[item["aidTypeCode"]],
        amount=None if amount is None else _yuan(amount),
        school_year=_school_year(item["schoolYear"]),
        paid_on=_date(item["payDate"]),
    )


def _student(item: dict[str, Any]) -> StudentRecord:
    level = item["difficultyLevel"]
    year = item["difficultyYear"]
    grade = item["gradeNo"]
    if type(grade) is not int or not 1 <= grade <= 6:
        raise ValueError("grade out of range")
    return StudentRecord(
        id_number=str(item["sfzh"]),
        student_number=str(item["studentNo"]),
        birth_date=_date(item["birthDate"]),
        stage=_STAGE[item["stageCode"]],
        grade=grade,
        school_name=str(item["schoolName"]),
        school_district=District.from_code(item["schoolRegionCode"]),
        enrolled_on=_date(item["enrolDate"]),
        difficulty=None if level is None else _DIFFICULTY[level],
        difficulty_school_year=None if year is None else _school_year(year),
        aid=tuple(_aid(a) for a in item["aidItems"]),
    )
