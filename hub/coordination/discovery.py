"""Proactive discovery (主动发现): the rules that find households in need, and their evidence.

``judge`` reads one household as a job of the hub sees it (civil affairs' record, every
department's part, the review schedule) and says which rules hold, with evidence a
caseworker reads: which department, which fact, the figure and the threshold, and the
rules version. A rule whose departments could not be read is not judged at all, so a
department that is down neither opens nor resolves an alert.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from adapters import education as edu
from adapters import emergency_management as em
from adapters import human_resources as hr
from adapters import records
from adapters.records import age_on
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, Source
from hub.coordination.reviews import Due
from hub.households import facts, income
from hub.households.facts import Part
from hub.index.search import IndexEntry
from hub.rules import Rules

C = AssistanceCategory
CIVIL, MEDICAL, EDUCATION = Source.CIVIL_AFFAIRS, Source.HEALTH_INSURANCE, Source.EDUCATION
HOUSING, EMPLOYMENT, DISASTER = Source.HOUSING, Source.HUMAN_RESOURCES, Source.EMERGENCY_MANAGEMENT


class Rule(enum.Enum):
    """What proactive discovery looks for."""

    EXPENDITURE_POVERTY_RISK = "EXPENDITURE_POVERTY_RISK"
    NEAR_MINIMUM_NOT_ENROLLED = "NEAR_MINIMUM_NOT_ENROLLED"
    ZERO_EMPLOYMENT = "ZERO_EMPLOYMENT"
    MINOR_TURNING_ADULT = "MINOR_TURNING_ADULT"
    STUDENT_WITHOUT_AID = "STUDENT_WITHOUT_AID"
    DISASTER_WITHOUT_RELIEF = "DISASTER_WITHOUT_RELIEF"
    HOUSING_HARDSHIP = "HOUSING_HARDSHIP"
    DISABILITY_WITHOUT_CARE_SUBSIDY = "DISABILITY_WITHOUT_CARE_SUBSIDY"
    REVIEW_OVERDUE = "REVIEW_OVERDUE"
    WITHDRAWAL_ENDING = "WITHDRAWAL_ENDING"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a rule holds, in words a caseworker reads (``summary`` names no figure; the
    figure and its threshold are ``value`` and ``threshold``, in yuan where money)."""

    department: Source | None
    fact: str
    summary: str
    rules_version: str
    value: Decimal | None = None
    threshold: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "department": self.department.value if self.department else None,
            "fact": self.fact,
            "summary": self.summary,
            "value": str(self.value) if self.value is not None else None,
            "threshold": str(self.threshold) if self.threshold is not None else None,
            "rules_version": self.rules_version,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            department=Source(data["department"]) if data.get("department") else None,
            fact=str(data["fact"]),
            summary=str(data["summary"]),
            rules_version=str(data["rules_version"]),
            value=Decimal(data["value"]) if data.get("value") is not None else None,
            threshold=Decimal(data["threshold"]) if data.get("threshold") is not None else None,
        )


@dataclass(frozen=True)
class Seen:
    """What a discovery job read of one household."""

    entry: IndexEntry
    parts: Mapping[Source, object]  # a Part, or why there is none (SourceError, WITHHELD)
    schedule: Sequence[Due]
    # What several rules work out alike (the counted income), worked out once.
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    def part(self, source: Source) -> Part[Any] | None:
        found = self.parts.get(source)
        return found if isinstance(found, Part) else None

    @cached_property
    def household(self) -> records.Household | None:
        part = self.part(CIVIL)
        found = part.records.get(self.entry.household_id, ()) if part else ()
        return found[0] if found else None


Check = Callable[[Seen, Rules, date], Evidence | None]


@dataclass(frozen=True)
class Rulebook:
    """Each rule, the departments it needs, and its check."""

    needs: Mapping[Rule, frozenset[Source]]
    checks: Mapping[Rule, Check]


def _active(household: records.Household) -> set[AssistanceCategory]:
    return {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}


def _employment(seen: Seen) -> list[hr.EmploymentRecord]:
    part = seen.part(EMPLOYMENT)
    return part.unique(lambda r: r.id_number) if part else []


def _income(seen: Seen, rules: Rules, today: date) -> income.IncomeFacts | None:
    key = ("income", rules.version, today)
    if key not in seen.memo:
        household = seen.household
        seen.memo[key] = (
            income.income(household, _employment(seen), rules, today) if household else None
        )
    found: income.IncomeFacts | None = seen.memo[key]
    return found


def expenditure_poverty(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household, medical = seen.household, seen.part(MEDICAL)
    counted = _income(seen, rules, today)
    if household is None or medical is None or counted is None:
        return None
    # Households already under the line (低保, 特困) or in 支出型贫困 have their help.
    if _active(household) & {C.EXPENDITURE_POVERTY, C.MINIMUM_LIVING, C.EXTREME_HARDSHIP}:
        return None
    spent = facts.medical(medical, rules, today).window_out_of_pocket
    share = rules.expenditure_poverty.medical_share_of_income
    line = (counted.counted * 12 * share).quantize(Decimal("0.01"))
    if spent <= line or spent == 0:
        return None
    months = rules.expenditure_poverty.window_months
    return Evidence(
        MEDICAL,
        "out_of_pocket_medical_costs",
        f"医保: out-of-pocket medical costs over the last {months} months are more than "
        f"{share:.0%} of the household's counted income (支出型贫困 risk); not enrolled in "
        "支出型贫困, 低保 or 特困.",
        rules.version,
        spent,
        line,
    )


def near_minimum(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household = seen.household
    counted = _income(seen, rules, today)
    if household is None or counted is None or not counted.under_near_standard:
        return None
    if _active(household) & {C.MINIMUM_LIVING, C.LOW_INCOME, C.EXTREME_HARDSHIP,
                             C.EXPENDITURE_POVERTY}:  # fmt: skip
        return None
    return Evidence(
        CIVIL,
        "income_per_person",
        f"民政: counted income per person is under {rules.low_income.near_standard_multiple} "
        "times the 低保 standard (近低保), and the household is enrolled in no category.",
        rules.version,
        counted.per_person,
        counted.near_standard,
    )


def zero_employment(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    part = seen.part(EMPLOYMENT)
    if part is None or not facts.employment(part, seen.household, rules, today).zero_employment:
        return None
    return Evidence(
        EMPLOYMENT,
        "zero_employment",
        "人社: every member of working age who is able and seeking to work is out of work "
        "(零就业家庭).",
        rules.version,
    )


def minor_turning_adult(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household, education = seen.household, seen.part(EDUCATION)
    if household is None or education is None or C.EXTREME_HARDSHIP not in _active(household):
        return None
    rule = rules.extreme_hardship
    students = {s.id_number for s in education.unique(lambda s: s.id_number)}
    horizon = today + timedelta(days=rule.minor_alert_days)
    for member in household.members:
        if member.id_number in students or age_on(member.birth_date, today) >= rule.minor_age:
            continue
        if age_on(member.birth_date, horizon) >= rule.minor_age:
            turns = income.months_after(member.birth_date, 12 * rule.minor_age)
            return Evidence(
                CIVIL,
                "minor_turning_adult",
                f"民政: a member covered as a minor by 特困 turns {rule.minor_age} on "
                f"{turns.isoformat()} and is not in full-time schooling: the cover ends then.",
                rules.version,
            )
    return None


def student_without_aid(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household, education = seen.household, seen.part(EDUCATION)
    if household is None or education is None:
        return None
    if not _active(household) - {C.TEMPORARY}:
        return None
    unaided: list[edu.StudentRecord] = [
        s for s in education.unique(lambda s: s.id_number) if not s.aid
    ]
    if not unaided:
        return None
    stages = ", ".join(sorted({s.stage.value.lower().replace("_", " ") for s in unaided}))
    return Evidence(
        EDUCATION,
        "student_without_aid",
        f"教育: {len(unaided)} student(s) of an assisted household ({stages}) receive no "
        "education aid (教育救助).",
        rules.version,
    )


_SEVERE = (em.DisasterDamageLevel.SEVERE, em.DisasterDamageLevel.TOTAL_LOSS)


def disaster_without_relief(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    part = seen.part(DISASTER)
    if part is None:
        return None
    days = rules.disaster.transitional_relief_days
    for record in facts.disaster(part, rules).impacts:
        recent = today - timedelta(days=days) <= record.event.occurred_on <= today
        relieved = any(p.stage is em.DisasterReliefStage.TRANSITIONAL for p in record.relief)
        if record.damage_level in _SEVERE and recent and not relieved:
            return Evidence(
                DISASTER,
                "transitional_relief",
                f"应急管理: the home was damaged {record.damage_level.value.lower()} by "
                f"{record.event.name} on {record.event.occurred_on.isoformat()}, and no "
                f"transitional relief (过渡期生活救助) is recorded; it is due within {days} days.",
                rules.version,
            )
    return None


def housing_hardship(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    part = seen.part(HOUSING)
    if part is None:
        return None
    found = facts.housing(part, rules)
    if not found.hardship or found.floor_area_per_person is None:
        return None
    return Evidence(
        HOUSING,
        "floor_area_per_person",
        "住房: floor area per person (m²) is under the rules' line, and the household has no "
        "low-rent housing (廉租住房).",
        rules.version,
        found.floor_area_per_person,
        rules.housing.floor_area_per_person,
    )


def disability_without_subsidy(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household = seen.household
    if household is None or seen.part(EMPLOYMENT) is None:
        return None
    working = {
        r.id_number for r in _employment(seen) if rules.zero_employment.counts_as_employed(r.status)
    }
    grades = rules.disability_care.grades
    for member in household.members:
        if (
            member.disability_grade in grades
            and member.care_subsidy is None
            and member.id_number not in working
            and age_on(member.birth_date, today) >= 16
        ):
            return Evidence(
                CIVIL,
                "care_subsidy",
                f"民政: a member with a grade {member.disability_grade} disability and no work "
                "receives no severe-disability care subsidy (重残无业人员护理补贴).",
                rules.version,
                None,
                rules.care_subsidy_on(today),
            )
    return None


def review_overdue(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    overdue = sorted(
        (d for d in seen.schedule if d.overdue(today, rules)), key=lambda d: d.next_due_on
    )
    if not overdue:
        return None
    first = overdue[0]
    return Evidence(
        CIVIL,
        "review_overdue",
        f"民政: the {first.category.value} review (动态管理复核) fell due on "
        f"{first.next_due_on.isoformat()} and has not been recorded.",
        rules.version,
    )


def withdrawal_ending(seen: Seen, rules: Rules, today: date) -> Evidence | None:
    household = seen.household
    if household is None:
        return None
    counted = _income(seen, rules, today)
    found = income.withdrawal(household, _employment(seen), counted, rules, today)
    days = rules.alerts.withdrawal_end_days
    if found is None or not found.ending_within(days, today):
        return None
    return Evidence(
        CIVIL,
        "gradual_withdrawal_ends",
        f"民政: the gradual-withdrawal period (救助渐退) of this 低保 household ends on "
        f"{found.ends_on.isoformat()}, within {days} days.",
        rules.version,
        found.monthly_amount,
    )


RULEBOOK = Rulebook(
    needs={
        Rule.EXPENDITURE_POVERTY_RISK: frozenset({CIVIL, MEDICAL, EMPLOYMENT}),
        Rule.NEAR_MINIMUM_NOT_ENROLLED: frozenset({CIVIL, EMPLOYMENT}),
        Rule.ZERO_EMPLOYMENT: frozenset({CIVIL, EMPLOYMENT}),
        Rule.MINOR_TURNING_ADULT: frozenset({CIVIL, EDUCATION}),
        Rule.STUDENT_WITHOUT_AID: frozenset({CIVIL, EDUCATION}),
        Rule.DISASTER_WITHOUT_RELIEF: frozenset({DISASTER}),
        Rule.HOUSING_HARDSHIP: frozenset({HOUSING}),
        Rule.DISABILITY_WITHOUT_CARE_SUBSIDY: frozenset({CIVIL, EMPLOYMENT}),
        Rule.REVIEW_OVERDUE: frozenset(),
        Rule.WITHDRAWAL_ENDING: frozenset({CIVIL, EMPLOYMENT}),
    },
    checks={
        Rule.EXPENDITURE_POVERTY_RISK: expenditure_poverty,
        Rule.NEAR_MINIMUM_NOT_ENROLLED: near_minimum,
        Rule.ZERO_EMPLOYMENT: zero_employment,
        Rule.MINOR_TURNING_ADULT: minor_turning_adult,
        Rule.STUDENT_WITHOUT_AID: student_without_aid,
        Rule.DISASTER_WITHOUT_RELIEF: disaster_without_relief,
        Rule.HOUSING_HARDSHIP: housing_hardship,
        Rule.DISABILITY_WITHOUT_CARE_SUBSIDY: disability_without_subsidy,
        Rule.REVIEW_OVERDUE: review_overdue,
        Rule.WITHDRAWAL_ENDING: withdrawal_ending,
    },
)


def judge(
    seen: Seen, rules: Rules, today: date, rulebook: Rulebook = RULEBOOK
) -> tuple[dict[Rule, Evidence], set[Rule]]:
    """The rules that hold for a household, with their evidence, and the rules judged
    (those whose departments were all read)."""
    read = {source for source in Source if seen.part(source) is not None}
    judged = {rule for rule, needs in rulebook.needs.items() if needs <= read}
    holding = {}
    for rule in judged:
        evidence = rulebook.checks[rule](seen, rules, today)
        if evidence is not None:
            holding[rule] = evidence
    return holding, judged
