"""From a checked scenario file to the hub's records: defaults, and what spans entries.

``scenario_format`` has checked each value; this module fills in the defaults that depend
on other values, checks what spans several (one head per household, no person in two
households, a record only about a member) and builds the records, collecting every
problem before it raises ``ScenarioError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from adapters import idnumber
from adapters.charity import CharityAid
from adapters.emergency_management import DisasterRecord
from adapters.records import Enrollment, Household, Member, age_on
from adapters.sandbox import scenario_departments as departments
from adapters.sandbox import synthetic_rules
from adapters.sandbox.geography import STREETS
from adapters.sandbox.population import AS_OF, AS_OF_TIME, WORKING
from adapters.sandbox.scenario import Scenario, ScenarioError, ScenarioHousehold
from adapters.sandbox.scenario_departments import Issues
from adapters.sandbox.scenario_format import (
    EnrollmentEntry,
    HouseholdEntry,
    MemberEntry,
    ScenarioFile,
)
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    Relation,
    WorkAbility,
)

T = TypeVar("T")
R = TypeVar("R")

# What an enrollment that does not say is: a year old, reviewed a month ago.
DEFAULT_SINCE = AS_OF - timedelta(days=365)
DEFAULT_REVIEW = AS_OF - timedelta(days=30)
_DISTRICTS = {d.code: d for d in District}


def build(parsed: ScenarioFile) -> Scenario:
    """The scenario's records, or ``ScenarioError`` with every problem found."""
    issues = Issues()
    people: dict[str, tuple[str, str]] = {}  # ID number → (household ID, where)
    seen: dict[str, int] = {}
    built = []
    for i, entry in enumerate(parsed.households):
        path = f"households[{i}]"
        if entry.id in seen:
            issues.add(f"{path}.id", f"{entry.id} is also households[{seen[entry.id]}]")
            continue
        seen[entry.id] = i
        household = _household(entry, path, issues)
        if household is None:
            continue
        for j, member in enumerate(household.members):
            where = f"{path}.members[{j}]"
            other = people.setdefault(member.id_number, (household.id, where))
            if other[1] != where:
                issues.add(
                    f"{where}.id_number",
                    f"{member.id_number} of household {household.id} is already a member of "
                    f"household {other[0]} ({other[1]})",
                )
        built.append(_departments(entry, household, path, issues))
    if issues.messages:
        raise ScenarioError(issues.messages)
    return Scenario(tuple(built), parsed.description)


def _household(entry: HouseholdEntry, path: str, issues: Issues) -> Household | None:
    district = entry.district or _DISTRICTS.get(entry.id[1:7])
    if district is None:
        issues.add(f"{path}.district", f"required: {entry.id[1:7]} is not a district's code")
        return None
    if not entry.members:
        issues.add(f"{path}.members", "a household has at least one member")
        return None
    working = {e.id_number for e in entry.human_resources if e.status in WORKING}
    members = tuple(
        _member(m, j, entry.id, f"{path}.members[{j}]", issues, working=m.id_number in working)
        for j, m in enumerate(entry.members)
    )
    heads = sum(m.relation is Relation.HEAD for m in members)
    if heads != 1:
        issues.add(f"{path}.members", f"exactly one member must be the HEAD, not {heads}")
    income = entry.assessed_monthly_income
    if entry.income_assessed_on is not None and income is None:
        issues.add(f"{path}.income_assessed_on", "given without assessed_monthly_income")
    earnings = _earnings(entry, path, issues, anyone_working=bool(working))
    street = entry.street or STREETS[district][0]
    return Household(
        id=entry.id,
        district=district,
        street=street,
        address=entry.address or street,
        hukou_type=entry.hukou_type,
        members=members,
        enrollments=tuple(_enrollment(e, len(members), income) for e in entry.enrollments),
        updated_at=AS_OF_TIME,  # civil affairs stamps it when the scenario is loaded
        assessed_monthly_income=income,
        income_assessed_on=entry.income_assessed_on or (AS_OF if income is not None else None),
        assessed_monthly_earnings=earnings,
    )


def _earnings(
    entry: HouseholdEntry, path: str, issues: Issues, *, anyone_working: bool
) -> Decimal | None:
    """The part of the assessed income earned from work: as given, or all of it when
    someone works and none of it when nobody does."""
    income = entry.assessed_monthly_income
    if "assessed_monthly_earnings" not in entry.model_fields_set:
        if income is None:
            return None
        return income if anyone_working else Decimal(0)
    earnings = entry.assessed_monthly_earnings
    if earnings is not None and income is None:
        issues.add(f"{path}.assessed_monthly_earnings", "given without assessed_monthly_income")
    elif earnings is not None and income is not None and earnings > income:
        issues.add(f"{path}.assessed_monthly_earnings", "exceeds assessed_monthly_income")
    return earnings


def _care_subsidy(m: MemberEntry, *, working: bool) -> Decimal | None:
    """重残无业人员护理补贴: as given, or by the rules for a severely disabled member out of
    work."""
    if "care_subsidy" in m.model_fields_set:
        return m.care_subsidy
    rules = synthetic_rules.packaged(AS_OF)
    if working or m.disability_grade not in rules.care_grades:
        return None
    return rules.care_subsidy


def _member(
    m: MemberEntry, j: int, household_id: str, path: str, issues: Issues, *, working: bool
) -> Member:
    encoded = idnumber.parse(m.id_number, today=max(date.today(), AS_OF))
    born = m.birth_date or encoded.birth_date
    relation = m.relation
    if relation is None:
        relation = Relation.HEAD if j == 0 else Relation.OTHER
        if j:
            issues.add(f"{path}.relation", "required for every member but the first")
    return Member(
        id_number=m.id_number,
        name=m.name,
        sex=m.sex or encoded.sex,
        birth_date=born,
        relation=relation,
        disability_grade=m.disability_grade,
        chronic_illness=m.chronic_illness,
        work_ability=m.work_ability or _work_ability(age_on(born, AS_OF), m.disability_grade),
        household_id=household_id,
        care_subsidy=_care_subsidy(m, working=working),
    )


def _work_ability(age: int, disability: int | None) -> WorkAbility:
    """As civil affairs would assess it: children, the elderly and the severely disabled
    cannot work; the moderately disabled partly."""
    if age < 16 or age >= 60 or disability in (1, 2):
        return WorkAbility.NONE
    if disability in (3, 4):
        return WorkAbility.PARTIAL
    return WorkAbility.FULL


def _enrollment(e: EnrollmentEntry, size: int, income: Decimal | None) -> Enrollment:
    since = e.since or DEFAULT_SINCE
    amount = e.monthly_amount
    if amount is None:
        rules = synthetic_rules.packaged(AS_OF)
        if e.category is AssistanceCategory.MINIMUM_LIVING:
            # 低保 tops the household's income up to the standard per person.
            amount = max(Decimal(0), rules.standard * size - (income or 0)).quantize(Decimal(1))
        elif e.category is AssistanceCategory.EXTREME_HARDSHIP:
            amount = (rules.standard * rules.extreme_hardship_multiple).quantize(Decimal(1))
        else:
            amount = Decimal(0)
    if "last_reviewed_on" in e.model_fields_set:
        reviewed = e.last_reviewed_on
    elif e.status is EnrollmentStatus.PENDING or e.category is AssistanceCategory.TEMPORARY:
        reviewed = None  # not decided yet, or one-off aid
    else:
        reviewed = max(since, DEFAULT_REVIEW)
    return Enrollment(e.category, e.status, since, amount, e.income_stable, reviewed)


def _per_member(
    entries: Sequence[T],
    key: Callable[[T], str],
    household: Household,
    path: str,
    issues: Issues,
    make: Callable[[T, Member, str], R | None],
) -> tuple[R, ...]:
    """One record per member at most, each about a member of the household."""
    members = {m.id_number: m for m in household.members}
    seen: dict[str, str] = {}
    result = []
    for k, entry in enumerate(entries):
        where = f"{path}[{k}]"
        number = key(entry)
        member = members.get(number)
        if member is None:
            issues.add(f"{where}.id_number", f"{number} is not a member of {household.id}")
            continue
        if number in seen:
            issues.add(f"{where}.id_number", f"{number} already has a record in {seen[number]}")
            continue
        seen[number] = where
        record = make(entry, member, where)
        if record is not None:
            result.append(record)
    return tuple(result)


def _departments(
    entry: HouseholdEntry, household: Household, path: str, issues: Issues
) -> ScenarioHousehold:
    medical = _per_member(
        entry.health_insurance,
        lambda e: e.id_number,
        household,
        f"{path}.health_insurance",
        issues,
        lambda e, m, where: departments.medical(e, m, household, where, issues),
    )
    students = _per_member(
        entry.education,
        lambda e: e.id_number,
        household,
        f"{path}.education",
        issues,
        lambda e, m, where: departments.student(
            e, entry.members[household.members.index(m)].schooling, m, household, where, issues
        ),
    )
    # A member's schooling without a student record of its own makes a plain one.
    written = {s.id_number for s in entry.education}
    plain = tuple(
        record
        for j, (m, member) in enumerate(zip(entry.members, household.members, strict=True))
        if m.schooling is not None and member.id_number not in written
        if (
            record := departments.student(
                None, m.schooling, member, household, f"{path}.members[{j}].schooling", issues
            )
        )
        is not None
    )
    employment = _per_member(
        entry.human_resources,
        lambda e: e.id_number,
        household,
        f"{path}.human_resources",
        issues,
        lambda e, m, where: departments.employment(e, m, where, issues),
    )
    dwellings = tuple(
        departments.dwelling(d, k, household, f"{path}.housing[{k}]", issues)
        for k, d in enumerate(entry.housing)
    )
    disasters: list[DisasterRecord] = []
    for k, d in enumerate(entry.emergency_management):
        harm = departments.disaster(d, household, f"{path}.emergency_management[{k}]", issues)
        if harm is not None and any(harm.event == r.event for r in disasters):
            issues.add(f"{path}.emergency_management[{k}].event", "listed twice")
        elif harm is not None:
            disasters.append(harm)
    members = {m.id_number for m in household.members}
    aid: list[CharityAid] = []
    for k, a in enumerate(entry.charity):
        where = f"{path}.charity[{k}]"
        if a.id_number is not None and a.id_number not in members:
            issues.add(f"{where}.id_number", f"{a.id_number} is not a member of {household.id}")
        elif (given := departments.aid(a, k, household, where, issues)) is not None:
            aid.append(given)
    return ScenarioHousehold(
        household=household,
        health_insurance=medical,
        education=students + plain,
        housing=dwellings,
        human_resources=employment,
        emergency_management=tuple(disasters),
        charity=tuple(aid),
    )
