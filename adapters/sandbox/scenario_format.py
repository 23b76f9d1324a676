"""The scenario file format: what a hand-built household may say, field by field.

A scenario is written in the hub's own vocabulary, not in any department's wire format:
enum names as in ``adapters.vocabulary`` and the department record enums (case does not
matter), ISO dates, amounts in yuan, ID numbers as the people carry them. These models
check the shape and every single value; ``adapters.sandbox.scenario_build`` checks what
spans several values (a record about someone who is not a member) and fills in the
defaults that depend on other values (a birth date from the ID number), so a field left
out here is None.

Field names are those of the records the hub's adapters return (``adapters.records``,
``adapters/<department>.py``), so that what a trainer writes is what the hub will read.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from adapters import idnumber
from adapters.education import EducationAidKind, EducationDifficulty, SchoolStage
from adapters.emergency_management import DisasterDamageLevel, DisasterReliefStage, DisasterType
from adapters.health_insurance import MedicalAssistanceKind, MedicalClaimKind, MedicalScheme
from adapters.housing import HousingTenure
from adapters.human_resources import EmploymentServiceKind, EmploymentStatus, WageBand
from adapters.sandbox.population import AS_OF
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    WorkAbility,
    is_household_id,
)

E = TypeVar("E", bound=enum.Enum)


def _by_name(cls: type[E]) -> Callable[[object], E]:
    """A validator taking an enum member by its name, in any case."""
    names = ", ".join(cls.__members__)

    def parse(value: object) -> E:
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value.strip().upper() in cls.__members__:
            return cls[value.strip().upper()]
        raise PydanticCustomError("enum_name", "must be one of {names}", {"names": names})

    return parse


def _id_number(value: object) -> str:
    # YAML reads an ID number without an X as an integer; none starts with 0.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PydanticCustomError("id_number", "not a valid ID number (FORMAT)")
    try:
        # The sandbox describes AS_OF: people born by then exist, whatever today is.
        return idnumber.parse(value, today=max(date.today(), AS_OF)).value
    except idnumber.InvalidIdNumber as exc:
        raise PydanticCustomError(
            "id_number", "not a valid ID number ({reason})", {"reason": exc.reason.value}
        ) from None


def _household_id(value: object) -> str:
    if not is_household_id(value):
        raise PydanticCustomError("household_id", "not a household ID (H and 13 digits)")
    assert isinstance(value, str)
    return value


def _whole(value: Decimal) -> Decimal:
    if value != value.to_integral_value():
        raise PydanticCustomError("whole_yuan", "must be whole yuan")
    return value


_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def _month(value: object) -> object:
    """``2026-09`` as the first of that month; a full date as it is."""
    if isinstance(value, str) and _MONTH.fullmatch(value.strip()):
        return value.strip() + "-01"
    return value


_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{4})")


def _school_year(value: str) -> str:
    match = _SCHOOL_YEAR.fullmatch(value)
    if match is None or int(match[2]) != int(match[1]) + 1:
        raise PydanticCustomError("school_year", "must be a school year such as 2026-2027")
    return value


IdNumberText = Annotated[str, PlainValidator(_id_number)]
HouseholdIdText = Annotated[str, PlainValidator(_household_id)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Yuan = Annotated[Decimal, Field(ge=0, decimal_places=2, allow_inf_nan=False)]
WholeYuan = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), AfterValidator(_whole)]
Area = Annotated[Decimal, Field(gt=0, decimal_places=2, allow_inf_nan=False)]
Month = Annotated[date, BeforeValidator(_month)]
SchoolYear = Annotated[str, AfterValidator(_school_year)]
Count = Annotated[int, Field(ge=0)]
Grade = Annotated[int, Field(ge=1, le=6)]
DisabilityGrade = Annotated[int, Field(ge=1, le=4)]
Year = Annotated[int, Field(ge=1949, le=AS_OF.year)]

DistrictName = Annotated[District, PlainValidator(_by_name(District))]
HukouName = Annotated[HukouType, PlainValidator(_by_name(HukouType))]
RelationName = Annotated[Relation, PlainValidator(_by_name(Relation))]
SexName = Annotated[Sex, PlainValidator(_by_name(Sex))]
WorkAbilityName = Annotated[WorkAbility, PlainValidator(_by_name(WorkAbility))]
CategoryName = Annotated[AssistanceCategory, PlainValidator(_by_name(AssistanceCategory))]
StatusName = Annotated[EnrollmentStatus, PlainValidator(_by_name(EnrollmentStatus))]
SchemeName = Annotated[MedicalScheme, PlainValidator(_by_name(MedicalScheme))]
ClaimKindName = Annotated[MedicalClaimKind, PlainValidator(_by_name(MedicalClaimKind))]
MedicalAidName = Annotated[MedicalAssistanceKind, PlainValidator(_by_name(MedicalAssistanceKind))]
StageName = Annotated[SchoolStage, PlainValidator(_by_name(SchoolStage))]
DifficultyName = Annotated[EducationDifficulty, PlainValidator(_by_name(EducationDifficulty))]
EducationAidName = Annotated[EducationAidKind, PlainValidator(_by_name(EducationAidKind))]
TenureName = Annotated[HousingTenure, PlainValidator(_by_name(HousingTenure))]
EmploymentName = Annotated[EmploymentStatus, PlainValidator(_by_name(EmploymentStatus))]
WageBandName = Annotated[WageBand, PlainValidator(_by_name(WageBand))]
ServiceName = Annotated[EmploymentServiceKind, PlainValidator(_by_name(EmploymentServiceKind))]
DisasterTypeName = Annotated[DisasterType, PlainValidator(_by_name(DisasterType))]
DamageName = Annotated[DisasterDamageLevel, PlainValidator(_by_name(DisasterDamageLevel))]
ReliefStageName = Annotated[DisasterReliefStage, PlainValidator(_by_name(DisasterReliefStage))]


class Entry(BaseModel):
    """One entry of a scenario file: unknown fields are refused (they are usually typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Civil affairs -------------------------------------------------------------------------


class Schooling(Entry):
    """Where a member goes to school; ``schooling: PRIMARY`` says the stage alone."""

    stage: StageName
    grade: Grade | None = None
    school_name: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _stage_alone(cls, data: Any) -> Any:
        return {"stage": data} if isinstance(data, str) else data


class MemberEntry(Entry):
    """A member; sex and birth date default from the ID number, work ability from the age
    and disability, the care subsidy (重残无业人员护理补贴) from the rules: paid to a member
    of the rules' disability grades whom no human-resources entry has in work. An explicit
    null says none is paid."""

    id_number: IdNumberText
    name: Text
    relation: RelationName | None = None
    sex: SexName | None = None
    birth_date: date | None = None
    disability_grade: DisabilityGrade | None = None
    chronic_illness: bool = False
    work_ability: WorkAbilityName | None = None
    care_subsidy: Yuan | None = None  # explicitly null: none paid
    schooling: Schooling | None = None


class EnrollmentEntry(Entry):
    """A standing in one assistance category; amounts and review dates default by the rules."""

    category: CategoryName
    status: StatusName = EnrollmentStatus.ACTIVE
    since: date | None = None
    monthly_amount: Yuan | None = None
    income_stable: bool = True
    last_reviewed_on: date | None = None  # explicitly null: never reviewed


# Health insurance ----------------------------------------------------------------------


class ClaimEntry(Entry):
    """One settled medical claim."""

    settled_on: date
    kind: ClaimKindName
    total_cost: Yuan
    reimbursed: Yuan
    serious_illness: bool = False
    settlement_id: Text | None = None


class MedicalAssistanceEntry(Entry):
    """One medical-assistance payment, tied to a claim of the same record by index or not."""

    amount: Yuan
    claim: Count | None = None  # the index of the claim it helped with, in ``claims``
    paid_on: date | None = None
    kind: MedicalAidName | None = None
    settlement_id: Text | None = None


class MedicalEntry(Entry):
    """A member's health insurance: scheme, premium and its subsidy, claims, assistance."""

    id_number: IdNumberText
    scheme: SchemeName = MedicalScheme.RESIDENT
    insured_since: date | None = None
    premium_year: Year | None = None
    annual_premium: Yuan | None = None
    subsidised_premium: Yuan | None = None
    claims: tuple[ClaimEntry, ...] = ()
    assistance: tuple[MedicalAssistanceEntry, ...] = ()


# Education -----------------------------------------------------------------------------


class EducationAidEntry(Entry):
    """One item of education aid; ``amount`` may be left out for a service only."""

    kind: EducationAidName
    amount: Yuan | None = None
    school_year: SchoolYear | None = None
    paid_on: date | None = None


class StudentEntry(Entry):
    """A member's student record; what the member's schooling says is the default."""

    id_number: IdNumberText
    stage: StageName | None = None
    grade: Grade | None = None
    school_name: Text | None = None
    school_district: DistrictName | None = None
    enrolled_on: date | None = None
    student_number: Text | None = None
    difficulty: DifficultyName | None = None
    difficulty_school_year: SchoolYear | None = None
    aid: tuple[EducationAidEntry, ...] = ()


# Housing -------------------------------------------------------------------------------


class LowRentEntry(Entry):
    """廉租住房: a monthly rent subsidy since a day."""

    since: date
    monthly_rent_subsidy: Yuan


class RenovationEntry(Entry):
    """农村危旧房改造: a one-off renovation subsidy."""

    year: Year
    amount: Yuan


class DwellingEntry(Entry):
    """A dwelling the household lives in; its occupants default to every member."""

    tenure: TenureName
    floor_area: Area
    dwelling_id: Text | None = None
    district: DistrictName | None = None
    address: Text | None = None
    occupants: tuple[IdNumberText, ...] | None = None
    low_rent: LowRentEntry | None = None
    renovations: tuple[RenovationEntry, ...] = ()


# Human resources -----------------------------------------------------------------------


class ServiceEntry(Entry):
    """One public employment service."""

    kind: ServiceName
    provided_on: date


class EmploymentEntry(Entry):
    """A member's employment, social insurance and pension record; for someone in work
    (EMPLOYED or FLEXIBLE) the day their work began defaults to a year before AS_OF."""

    id_number: IdNumberText
    status: EmploymentName
    employed_since: date | None = None  # explicitly null: the bureau does not say
    wage_band: WageBandName | None = None
    contribution_months: Count = 0
    last_contribution_month: Month | None = None
    monthly_pension: Yuan | None = None
    unemployment_registered_on: date | None = None
    services: tuple[ServiceEntry, ...] = ()


# Emergency management ------------------------------------------------------------------


class EventEntry(Entry):
    """A catalogued event by its number alone, or an event of the scenario's own."""

    id: Text | None = None
    type: DisasterTypeName | None = None
    name: Text | None = None
    occurred_on: date | None = None
    districts: tuple[DistrictName, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _number_alone(cls, data: Any) -> Any:
        return {"id": data} if isinstance(data, str) else data


class ReliefEntry(Entry):
    """One relief payment; it defaults to a few days, weeks or months after the event."""

    stage: ReliefStageName
    amount: WholeYuan
    paid_on: date | None = None


class DisasterEntry(Entry):
    """The household's harm in one disaster event, and the relief paid."""

    event: EventEntry
    damage_level: DamageName
    relief: tuple[ReliefEntry, ...] = ()


# Charity -------------------------------------------------------------------------------


class CharityAidEntry(Entry):
    """Aid from a catalogued project, to a member (``id_number``) or to the household."""

    amount: Yuan
    given_on: date
    project_id: Text = "scf_ltx"
    id_number: IdNumberText | None = None  # none: aid to the household
    id: Text | None = None


# The file ------------------------------------------------------------------------------


class HouseholdEntry(Entry):
    """A household: civil affairs' record of it, and each department's records about it.

    With an assessed income, the part of it earned from work defaults to all of it when a
    human-resources entry has a member in work (EMPLOYED or FLEXIBLE), to none otherwise;
    an explicit null says civil affairs does not split it.
    """

    id: HouseholdIdText
    district: DistrictName | None = None
    street: Text | None = None
    address: Text | None = None
    hukou_type: HukouName = HukouType.URBAN
    assessed_monthly_income: Yuan | None = None
    income_assessed_on: date | None = None
    assessed_monthly_earnings: Yuan | None = None
    members: tuple[MemberEntry, ...]
    enrollments: tuple[EnrollmentEntry, ...] = ()
    health_insurance: tuple[MedicalEntry, ...] = ()
    education: tuple[StudentEntry, ...] = ()
    housing: tuple[DwellingEntry, ...] = ()
    human_resources: tuple[EmploymentEntry, ...] = ()
    emergency_management: tuple[DisasterEntry, ...] = ()
    charity: tuple[CharityAidEntry, ...] = ()


class ScenarioFile(Entry):
    """A scenario file: hand-built households, in the order given."""

    description: str | None = None
    households: tuple[HouseholdEntry, ...]
