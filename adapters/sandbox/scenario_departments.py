"""Each department's records about a scenario household, from what its file says.

Defaults follow the stand-ins' own conventions (a resident's premium by age, the 资助参保
rule, the school of the household's street, relief paid days after the disaster), so a
record needs only what makes it the record a rule is about. Problems go into ``Issues``,
each naming its entry; a record with a problem is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from adapters.charity import CharityAid, CharityRecipient
from adapters.education import EducationAid, EducationAidKind, SchoolStage, StudentRecord
from adapters.emergency_management import (
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    ReliefPayment,
)
from adapters.health_insurance import (
    MedicalAssistanceKind,
    MedicalAssistancePayment,
    MedicalClaim,
    MedicalClaimKind,
    MedicalRecord,
    MedicalScheme,
)
from adapters.housing import Dwelling, LowRentHousing, RuralRenovation
from adapters.human_resources import EmploymentRecord, EmploymentService, EmploymentStatus
from adapters.records import Household, Member, age_on
from adapters.sandbox import charity, education, emergency_management, health_insurance
from adapters.sandbox.human_resources import LAST_POSTED, MIN_AGE, anniversary
from adapters.sandbox.population import AS_OF, WORKING, rng_for
from adapters.sandbox.scenario_format import (
    CharityAidEntry,
    DisasterEntry,
    DwellingEntry,
    EmploymentEntry,
    MedicalEntry,
    Schooling,
    StudentEntry,
)


@dataclass
class Issues:
    """What is wrong with a scenario, one line per problem, and what spans households."""

    messages: list[str] = field(default_factory=list)
    events: dict[str, tuple[DisasterEvent, str]] = field(default_factory=dict)
    dwellings: dict[str, str] = field(default_factory=dict)  # dwelling ID → where defined
    aid: dict[str, str] = field(default_factory=dict)  # aid ID → where defined

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


# Health insurance ----------------------------------------------------------------------


def _claim_aid_kind(claim: MedicalClaim) -> MedicalAssistanceKind:
    if claim.serious_illness:
        return MedicalAssistanceKind.SERIOUS_ILLNESS
    if claim.kind is MedicalClaimKind.INPATIENT:
        return MedicalAssistanceKind.INPATIENT
    return MedicalAssistanceKind.OUTPATIENT


def _premium_fen(member: Member, scheme: MedicalScheme) -> int:
    age = age_on(member.birth_date, AS_OF)
    if scheme is MedicalScheme.RESIDENT:
        return next(fen for floor, fen in health_insurance.RESIDENT_PREMIUM_FEN if age >= floor)
    if age >= 60:
        return 0  # retirees pay no contribution
    return health_insurance.MINIMUM_BASE_FEN * 12 * health_insurance.EMPLOYEE_SHARE // 100


def medical(
    e: MedicalEntry, member: Member, household: Household, path: str, issues: Issues
) -> MedicalRecord:
    """A member's health-insurance record (``e``), premium and subsidy by the stand-in's rules."""
    premium = e.annual_premium
    if premium is None:
        premium = _yuan(_premium_fen(member, e.scheme))
    subsidy = e.subsidised_premium
    if subsidy is None:
        subsidy = _yuan(health_insurance.subsidy_fen(member, household, e.scheme, _fen(premium)))
    if subsidy > premium:
        issues.add(f"{path}.subsidised_premium", "exceeds annual_premium")
    claims = []
    for k, c in enumerate(e.claims):
        if c.reimbursed > c.total_cost:
            issues.add(f"{path}.claims[{k}].reimbursed", "exceeds total_cost")
        number = c.settlement_id or f"JS{c.settled_on:%Y%m%d}{member.id_number[-6:]}{k + 1:03d}"
        claims.append(
            MedicalClaim(
                number, c.settled_on, c.kind, c.total_cost, c.reimbursed, c.serious_illness
            )
        )
    payments = []
    for k, a in enumerate(e.assistance):
        where = f"{path}.assistance[{k}]"
        claim = None
        if a.claim is not None:
            if a.claim >= len(claims):
                issues.add(f"{where}.claim", f"there is no claims[{a.claim}]")
                continue
            claim = claims[a.claim]
        paid_on = a.paid_on or (claim.settled_on if claim else None)
        kind = a.kind or (_claim_aid_kind(claim) if claim else None)
        if paid_on is None or kind is None:
            for name, value in (("paid_on", paid_on), ("kind", kind)):
                if value is None:
                    issues.add(f"{where}.{name}", "required unless the payment names its claim")
            continue
        settlement = a.settlement_id or (claim.settlement_id if claim else None)
        payments.append(MedicalAssistancePayment(paid_on, kind, a.amount, settlement))
    return MedicalRecord(
        id_number=member.id_number,
        scheme=e.scheme,
        insured_since=e.insured_since or max(member.birth_date, AS_OF - timedelta(days=5 * 365)),
        premium_year=e.premium_year or AS_OF.year,
        annual_premium=premium,
        subsidised_premium=subsidy,
        claims=tuple(claims),
        assistance=tuple(payments),
    )


# Education -----------------------------------------------------------------------------

SCHOOL_YEAR_NOW = f"{education.SCHOOL_YEAR}-{education.SCHOOL_YEAR + 1}"


def student(
    e: StudentEntry | None,
    schooling: Schooling | None,
    member: Member,
    household: Household,
    path: str,
    issues: Issues,
) -> StudentRecord | None:
    """The member's student record: ``e`` as written, or a plain one from ``schooling``."""
    stage = (e.stage if e else None) or (schooling.stage if schooling else None)
    if stage is None:
        issues.add(f"{path}.stage", "required (the member's schooling does not say it)")
        return None
    age = age_on(member.birth_date, AS_OF)
    grades = education.GRADES[stage]
    grade = (e.grade if e else None) or (schooling.grade if schooling else None)
    if grade is None:
        grade = min(grades, max(1, age - education.STAGE_AGES[stage][0] + 1))
    elif grade > grades:
        issues.add(f"{path}.grade", f"{stage.name} has grades 1 to {grades}")
    special = member.disability_grade in (1, 2) and 6 <= age <= 17
    rng = rng_for(0, "scenario", "education", member.id_number)
    school, school_district = education.school_for(0, household, stage, special, rng)
    school = (
        (e.school_name if e else None) or (schooling.school_name if schooling else None) or school
    )
    entered = education.SCHOOL_YEAR - grade + 1
    higher = stage is SchoolStage.HIGHER
    aid = []
    for k, a in enumerate(e.aid if e else ()):
        if a.amount is None and a.kind is not EducationAidKind.HOME_TEACHING:
            issues.add(f"{path}.aid[{k}].amount", "required for aid that is not a service")
        year = a.school_year or SCHOOL_YEAR_NOW
        paid_on = a.paid_on or date(int(year[:4]), 9, 1)
        aid.append(EducationAid(a.kind, a.amount, year, paid_on))
    difficulty = e.difficulty if e else None
    return StudentRecord(
        id_number=member.id_number,
        student_number=(e.student_number if e else None)
        or (f"{entered}{member.id_number[-6:]}" if higher else "G" + member.id_number),
        birth_date=member.birth_date,
        stage=stage,
        grade=grade,
        school_name=school,
        school_district=(e.school_district if e else None) or school_district,
        enrolled_on=(e.enrolled_on if e else None) or date(entered, 9, 1),
        difficulty=difficulty,
        difficulty_school_year=(e.difficulty_school_year if e else None)
        or (SCHOOL_YEAR_NOW if difficulty else None),
        aid=tuple(aid),
    )


# Housing -------------------------------------------------------------------------------


def dwelling(e: DwellingEntry, k: int, household: Household, path: str, issues: Issues) -> Dwelling:
    """The ``k``-th dwelling of the household."""
    number = e.dwelling_id or f"FW{household.id[1:]}{k + 1:02d}"
    if number in issues.dwellings:
        issues.add(f"{path}.dwelling_id", f"{number} is also {issues.dwellings[number]}")
    issues.dwellings.setdefault(number, path)
    district = e.district or household.district
    members = {m.id_number for m in household.members}
    occupants = (
        tuple(m.id_number for m in household.members) if e.occupants is None else e.occupants
    )
    for n, occupant in enumerate(occupants):
        if occupant not in members:
            issues.add(f"{path}.occupants[{n}]", f"{occupant} is not a member of {household.id}")
    if not occupants:
        issues.add(f"{path}.occupants", "at least one member lives in a dwelling")
    return Dwelling(
        dwelling_id=number,
        district=district,
        address=e.address or f"上海市{district.name_zh}{household.address}",
        floor_area=e.floor_area,
        tenure=e.tenure,
        occupants=tuple(dict.fromkeys(occupants)),
        low_rent=LowRentHousing(e.low_rent.since, e.low_rent.monthly_rent_subsidy)
        if e.low_rent
        else None,
        renovations=tuple(RuralRenovation(r.year, r.amount) for r in e.renovations),
    )


# Human resources -----------------------------------------------------------------------


def _last_month(e: EmploymentEntry) -> date | None:
    """The last month paid for, when the entry does not say: the month before AS_OF's for
    someone in work (contributions are posted a month behind), the month before the
    registration for the unemployed; unknown for the rest."""
    if e.last_contribution_month is not None:
        return e.last_contribution_month.replace(day=1)
    if not e.contribution_months:
        return None
    if e.status in (EmploymentStatus.EMPLOYED, EmploymentStatus.FLEXIBLE):
        return LAST_POSTED
    registered = e.unemployment_registered_on
    if e.status is EmploymentStatus.REGISTERED_UNEMPLOYED and registered is not None:
        return (registered.replace(day=1) - timedelta(days=1)).replace(day=1)
    return None


# When the work of someone in work began, if the entry does not say: a year before AS_OF.
DEFAULT_EMPLOYED_SINCE = AS_OF - timedelta(days=365)


def _employed_since(e: EmploymentEntry, member: Member, path: str, issues: Issues) -> date | None:
    """The day the current work began: as given, or a year before AS_OF (at 16 at the
    earliest) for someone in work; only someone in work has one."""
    if e.status not in WORKING:
        if e.employed_since is not None:
            issues.add(f"{path}.employed_since", "only for someone EMPLOYED or FLEXIBLE")
        return None
    if "employed_since" in e.model_fields_set:
        return e.employed_since
    return max(DEFAULT_EMPLOYED_SINCE, anniversary(member.birth_date, MIN_AGE))


def employment(e: EmploymentEntry, member: Member, path: str, issues: Issues) -> EmploymentRecord:
    """A member's employment record."""
    last = _last_month(e)
    return EmploymentRecord(
        id_number=e.id_number,
        status=e.status,
        wage_band=e.wage_band,
        contribution_months=e.contribution_months,
        last_contribution_month=last,
        monthly_pension=e.monthly_pension,
        unemployment_registered_on=e.unemployment_registered_on,
        services=tuple(EmploymentService(s.kind, s.provided_on) for s in e.services),
        employed_since=_employed_since(e, member, path, issues),
    )


# Emergency management ------------------------------------------------------------------

CATALOGUE = {event.number: event for event in emergency_management.CATALOGUE}
TYPE_NAMES = {
    DisasterType.TYPHOON: "台风",
    DisasterType.FLOOD: "洪涝",
    DisasterType.RAINSTORM: "暴雨",
    DisasterType.FIRE: "居民住宅火灾",
    DisasterType.OTHER: "灾害",
}
RELIEF_DELAY = {
    DisasterReliefStage.EMERGENCY: timedelta(days=3),
    DisasterReliefStage.TRANSITIONAL: timedelta(days=15),
    DisasterReliefStage.RECONSTRUCTION: timedelta(days=90),
}


def _event(
    e: DisasterEntry, household: Household, path: str, issues: Issues
) -> DisasterEvent | None:
    ev = e.event
    own = any(v is not None for v in (ev.type, ev.name, ev.occurred_on, ev.districts))
    if ev.id is not None and not own:
        if ev.id in CATALOGUE:
            return emergency_management.disaster_event(CATALOGUE[ev.id])
        if ev.id in issues.events:  # one of the scenario's own, defined earlier
            return issues.events[ev.id][0]
        issues.add(f"{path}.event", f"unknown event {ev.id}: give its type and occurred_on")
        return None
    if ev.id is not None and ev.id in CATALOGUE:
        issues.add(f"{path}.event.id", f"{ev.id} is a catalogued event: give its number alone")
        return None
    if ev.type is None or ev.occurred_on is None:
        for name, value in (("type", ev.type), ("occurred_on", ev.occurred_on)):
            if value is None:
                issues.add(f"{path}.event.{name}", "required for an event of the scenario's own")
        return None
    code = emergency_management.TYPE_CODES[ev.type]
    event = DisasterEvent(
        id=ev.id or f"ZH{ev.occurred_on:%Y%m%d}{code}{household.id[1:]}",
        type=ev.type,
        name=ev.name or f"{household.street}{TYPE_NAMES[ev.type]}",
        occurred_on=ev.occurred_on,
        districts=ev.districts or (household.district,),
    )
    earlier = issues.events.setdefault(event.id, (event, f"{path}.event"))
    if earlier[0] != event:
        issues.add(f"{path}.event", f"event {event.id} is defined differently in {earlier[1]}")
        return None
    return event


def disaster(
    e: DisasterEntry, household: Household, path: str, issues: Issues
) -> DisasterRecord | None:
    """The household's harm in one event: catalogued, or of the scenario's own."""
    event = _event(e, household, path, issues)
    if event is None:
        return None
    head = household.head
    return DisasterRecord(
        event=event,
        head_id_number=head.id_number,
        member_id_numbers=(
            head.id_number,
            *(m.id_number for m in household.members if m is not head),
        ),
        district=household.district,
        damage_level=e.damage_level,
        relief=tuple(
            ReliefPayment(r.stage, r.amount, r.paid_on or event.occurred_on + RELIEF_DELAY[r.stage])
            for r in e.relief
        ),
    )


# Charity -------------------------------------------------------------------------------

PROJECTS = {project.id: project for project in charity.PROJECTS}
_AID_KINDS = {code: kind for kind, code in charity.KIND_CODES.items()}


def aid(
    e: CharityAidEntry, k: int, household: Household, path: str, issues: Issues
) -> CharityAid | None:
    """The ``k``-th charity aid to the household or one of its members."""
    project = PROJECTS.get(e.project_id)
    if project is None:
        issues.add(f"{path}.project_id", f"unknown project {e.project_id} (see /charity/projects)")
        return None
    number = e.id or f"ca{household.id[1:]}{k + 1:02d}"
    if number in issues.aid:
        issues.add(f"{path}.id", f"{number} is also {issues.aid[number]}")
    issues.aid.setdefault(number, path)
    personal = e.id_number is not None
    return CharityAid(
        id=number,
        beneficiary_id_number=e.id_number or household.head.id_number,
        recipient=CharityRecipient.PERSON if personal else CharityRecipient.HOUSEHOLD,
        household_member_ids=() if personal else tuple(m.id_number for m in household.members),
        organisation_id=project.organisation.id,
        organisation_name=project.organisation.name,
        project_id=project.id,
        project_name=project.name,
        kind=_AID_KINDS[project.kind],
        amount=e.amount,
        given_on=e.given_on,
    )
