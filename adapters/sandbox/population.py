"""A deterministic synthetic Shanghai population of households known to civil affairs.

``generate(seed, size)`` gives the same households in every process: each household is
drawn from its own random stream (seeded by seed and position), and ID numbers are made
unique in order of generation, so a larger population starts with the smaller one.

Proportions follow the published figures in spirit (most assisted households are small,
低保 is the largest category, 特困 people live alone and cannot work) without claiming
to be statistics. Every stand-in department derives its records from this population,
through ``rng_for``, so that one person's records agree across departments.

Amounts and review dates follow the assistance rules file (``hub/rules/shanghai.toml``,
read through ``adapters.sandbox.synthetic_rules``), so that the stand-ins and the hub judge
households by the same standard.

What civil affairs knows of the members' work follows what human resources records
(``adapters.sandbox.human_resources.household_work``): only households with someone in
work have earnings, the severe-disability care subsidy goes to most severely disabled
members out of work, and a 低保 household whose member has just found work that lifts it
over the standard (救助渐退) has its income assessed since. These are drawn after
everything else, from streams of their own, so that the values drawn before stay as
they were.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import TypeVar

from adapters import idnumber
from adapters.human_resources import EmploymentRecord, EmploymentStatus
from adapters.records import Enrollment, Household, Member
from adapters.sandbox import synthetic_rules
from adapters.sandbox.geography import (
    DISTRICT_WEIGHTS,
    FORMER_SHANGHAI_CODES,
    MIGRANT_REGION_CODES,
    ROADS,
    RURAL_SHARE,
    STREETS,
)
from adapters.sandbox.synthetic_rules import SyntheticRules
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    WorkAbility,
)

T = TypeVar("T")

# The date the synthetic data describes; fixed so that every run agrees.
AS_OF = date(2026, 10, 31)
AS_OF_TIME = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁沈任姚卢傅钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"  # noqa: E501
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁健国建林峰俊浩宇晨志文德福根荣庆海"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰萍红梅琳雪慧颖洁婷倩燕莉佳怡欣悦瑶琴月珍凤"

# (size, weight): assisted households are mostly one person (1.35 on average for 低保).
SIZE_WEIGHTS = ((1, 66), (2, 16), (3, 10), (4, 5), (5, 2), (6, 1))

# The share of severely disabled members out of work not (yet) paid the care subsidy:
# the cases the hub's proactive discovery (主动发现) is there to find.
CARE_MISSED_SHARE = 0.15
# Per cent of the standard per person a household leaving 低保 through work now earns.
LEAVING_INCOME = (101, 140)
WORKING = (EmploymentStatus.EMPLOYED, EmploymentStatus.FLEXIBLE)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Population:
    """A generated population with lookups by household ID and by member ID number."""

    seed: int
    households: tuple[Household, ...]
    by_id: dict[str, Household] = field(repr=False)
    by_id_number: dict[str, Member] = field(repr=False)

    def __len__(self) -> int:
        return len(self.households)

    def members(self) -> Iterator[Member]:
        for household in self.households:
            yield from household.members


def rng_for(seed: int, *parts: object) -> random.Random:
    """A random stream fixed by the seed and the given parts (e.g. a department and a key).

    String seeds are hashed with SHA-512 by ``random``, so this does not depend on
    PYTHONHASHSEED and gives the same stream in every process.
    """
    return random.Random(":".join([str(seed), *map(str, parts)]))


def household_id(district: District, index: int) -> str:
    return f"H{district.code}{index + 1:07d}"


def generate(seed: int, size: int, *, rules: SyntheticRules | None = None) -> Population:
    """The population of ``size`` households for ``seed`` (cached per process).

    ``rules`` gives the standard and review cycles; by default those of the packaged rules
    file on ``AS_OF`` (``hub.rules.synthetic_rules`` builds them from other rules).
    """
    return _generate(seed, size, synthetic_rules.packaged(AS_OF) if rules is None else rules)


@lru_cache(maxsize=8)
def _generate(seed: int, size: int, rules: SyntheticRules) -> Population:
    used: set[str] = set()
    drafts = tuple(_household(seed, i, used, rules) for i in range(size))
    households = tuple(_at_work(seed, h, rules) for h in drafts)
    by_id = {h.id: h for h in households}
    by_id_number = {m.id_number: m for h in households for m in h.members}
    return Population(seed=seed, households=households, by_id=by_id, by_id_number=by_id_number)


@dataclass
class _Draft:
    relation: Relation
    sex: Sex
    age: int
    surname: str


def _pick_weighted(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    values, weights = zip(*pairs, strict=True)
    choice: T = rng.choices(values, weights=weights)[0]
    return choice


def _composition(rng: random.Random, size: int) -> list[_Draft]:
    surname = rng.choice(SURNAMES)
    other = rng.choice(SURNAMES)
    head_sex = rng.choice((Sex.MALE, Sex.FEMALE))
    spouse_sex = Sex.FEMALE if head_sex is Sex.MALE else Sex.MALE

    def child(parent_age: int) -> _Draft:
        age = max(0, parent_age - rng.randint(22, 38))
        return _Draft(Relation.CHILD, rng.choice((Sex.MALE, Sex.FEMALE)), age, surname)

    if size == 1:
        # Lone elderly people, lone disabled adults, occasionally an orphaned minor.
        age = _pick_weighted(
            rng, ((rng.randint(60, 96), 55), (rng.randint(20, 59), 42), (rng.randint(8, 17), 3))
        )
        return [_Draft(Relation.HEAD, head_sex, age, surname)]
    if size == 2:
        shape = rng.choice(("couple", "parent_child", "adult_parent"))
        head_age = rng.randint(30, 85)
        if shape == "couple":
            return [
                _Draft(Relation.HEAD, head_sex, head_age, surname),
                _Draft(Relation.SPOUSE, spouse_sex, max(20, head_age + rng.randint(-5, 5)), other),
            ]
        if shape == "parent_child":
            head_age = rng.randint(28, 55)
            return [_Draft(Relation.HEAD, head_sex, head_age, surname), child(head_age)]
        head_age = rng.randint(35, 60)
        return [
            _Draft(Relation.HEAD, head_sex, head_age, surname),
            _Draft(
                Relation.PARENT,
                rng.choice((Sex.MALE, Sex.FEMALE)),
                min(98, head_age + rng.randint(22, 35)),
                surname,
            ),
        ]
    head_age = rng.randint(28, 55)
    drafts = [_Draft(Relation.HEAD, head_sex, head_age, surname)]
    if rng.random() < 0.7:
        drafts.append(
            _Draft(Relation.SPOUSE, spouse_sex, max(20, head_age + rng.randint(-5, 5)), other)
        )
    while len(drafts) < size:
        roll = rng.random()
        if roll < 0.65 or (size - len(drafts) == 1 and roll < 0.8):
            drafts.append(child(head_age))
        elif roll < 0.9:
            drafts.append(
                _Draft(
                    Relation.PARENT,
                    rng.choice((Sex.MALE, Sex.FEMALE)),
                    min(98, head_age + rng.randint(22, 35)),
                    surname,
                )
            )
        else:
            drafts.append(
                _Draft(
                    Relation.SIBLING,
                    rng.choice((Sex.MALE, Sex.FEMALE)),
                    max(18, head_age + rng.randint(-8, 8)),
                    surname,
                )
            )
    return drafts


def _birth_date(rng: random.Random, age: int) -> date:
    # Born ``age`` full years before AS_OF: somewhere in the year before that birthday.
    latest = AS_OF.replace(year=AS_OF.year - age)
    return latest - timedelta(days=rng.randint(0, 364))


def _id_number(rng: random.Random, district: District, born: date, sex: Sex, used: set[str]) -> str:
    roll = rng.random()
    if roll < 0.1:
        region = rng.choice(MIGRANT_REGION_CODES)
    elif roll < 0.2 and born.year < 2000:
        region = rng.choice(FORMER_SHANGHAI_CODES)
    else:
        region = district.code
    parity = 1 if sex is Sex.MALE else 0
    sequence = rng.randrange(0, 500) * 2 + parity
    for _ in range(1000):
        if sequence > 0:  # 000 is not issued
            value = idnumber.make(region, born, sequence)
            if value not in used:
                used.add(value)
                return value
        sequence = (sequence + 2) % 1000
    raise RuntimeError("ran out of sequence numbers for one region and birth date")


def _name(rng: random.Random, surname: str, sex: Sex) -> str:
    pool = GIVEN_MALE if sex is Sex.MALE else GIVEN_FEMALE
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return surname + given


def _member(
    rng: random.Random, draft: _Draft, district: District, hid: str, used: set[str]
) -> Member:
    born = _birth_date(rng, draft.age)
    elderly = draft.age >= 60
    disability = None
    if rng.random() < (0.18 if elderly else 0.09):
        disability = rng.choices((1, 2, 3, 4), weights=(15, 25, 30, 30))[0]
    chronic = rng.random() < (0.45 if elderly else 0.12 if draft.age >= 18 else 0.04)
    if draft.age < 16 or draft.age >= 60 or disability in (1, 2):
        ability = WorkAbility.NONE
    elif disability in (3, 4) or (chronic and rng.random() < 0.5):
        ability = WorkAbility.PARTIAL
    else:
        ability = WorkAbility.FULL
    return Member(
        id_number=_id_number(rng, district, born, draft.sex, used),
        name=_name(rng, draft.surname, draft.sex),
        sex=draft.sex,
        birth_date=born,
        relation=draft.relation,
        disability_grade=disability,
        chronic_illness=chronic,
        work_ability=ability,
        household_id=hid,
    )


def _enrollments(
    rng: random.Random, members: tuple[Member, ...], rules: SyntheticRules
) -> tuple[Enrollment, ...]:
    size = len(members)
    can_work = any(m.work_ability is WorkAbility.FULL for m in members)
    chronic = any(m.chronic_illness for m in members)
    if size == 1 and members[0].work_ability is WorkAbility.NONE and rng.random() < 0.25:
        main = AssistanceCategory.EXTREME_HARDSHIP
    else:
        main = _pick_weighted(
            rng,
            (
                (AssistanceCategory.MINIMUM_LIVING, 58),
                (AssistanceCategory.LOW_INCOME, 22),
                (AssistanceCategory.EXPENDITURE_POVERTY, 10 if chronic else 3),
                (AssistanceCategory.TEMPORARY, 8),
            ),
        )
    categories = [main]
    if main is not AssistanceCategory.TEMPORARY and rng.random() < 0.06:
        categories.append(AssistanceCategory.TEMPORARY)
    result = []
    for category in categories:
        status = _pick_weighted(
            rng,
            (
                (EnrollmentStatus.ACTIVE, 85),
                (EnrollmentStatus.PENDING, 5),
                (EnrollmentStatus.SUSPENDED, 4),
                (EnrollmentStatus.TERMINATED, 6),
            ),
        )
        since = AS_OF - timedelta(days=rng.randint(30, 365 * 8))
        if category is AssistanceCategory.TEMPORARY:
            since = AS_OF - timedelta(days=rng.randint(5, 300))
        stable = not can_work or rng.random() < 0.4
        months = rules.review_months(category, income_stable=stable, able_to_work_member=can_work)
        # Whole days, rounded down from calendar months (3 → 91, 6 → 182, 12 → 365).
        cycle = (months or 0) * 365 // 12
        reviewed: date | None = None
        if status is not EnrollmentStatus.PENDING and cycle:
            # Most reviews are on time; some are overdue by up to half a cycle.
            reviewed = max(since, AS_OF - timedelta(days=rng.randint(0, int(cycle * 1.4))))
        result.append(
            Enrollment(
                category=category,
                status=status,
                since=since,
                monthly_amount=_amount(rng, category, size, rules),
                income_stable=stable,
                last_reviewed_on=reviewed,
            )
        )
    return tuple(result)


def _amount(
    rng: random.Random, category: AssistanceCategory, size: int, rules: SyntheticRules
) -> Decimal:
    if category is AssistanceCategory.MINIMUM_LIVING:
        # 低保 tops income up to the standard: the household's own income is drawn as a share.
        income_share = Decimal(rng.randint(0, 60)) / 100
        return (rules.standard * size * (1 - income_share)).quantize(Decimal(1))
    if category is AssistanceCategory.EXTREME_HARDSHIP:
        return (rules.standard * rules.extreme_hardship_multiple).quantize(Decimal(1))
    if category is AssistanceCategory.TEMPORARY:
        # One-off sums picked from typical grants, not a rule the hub applies.
        return Decimal(rng.choice((500, 1000, 1550, 3000, 5000)))
    return Decimal(0)


def _household(seed: int, index: int, used: set[str], rules: SyntheticRules) -> Household:
    rng = rng_for(seed, "household", index)
    district = rng.choices(list(DISTRICT_WEIGHTS), weights=list(DISTRICT_WEIGHTS.values()))[0]
    hid = household_id(district, index)
    street = rng.choice(STREETS[district])
    size = _pick_weighted(rng, SIZE_WEIGHTS)
    members = tuple(_member(rng, d, district, hid, used) for d in _composition(rng, size))
    rural = rng.random() < RURAL_SHARE.get(district, 0.0)
    address = (
        f"{street}{rng.choice(ROADS)}{rng.randint(1, 999)}弄"
        f"{rng.randint(1, 60)}号{rng.randint(1, 20)}{rng.randint(1, 4):02d}室"
    )
    enrollments = _enrollments(rng, members, rules)
    updated_at = AS_OF_TIME - timedelta(seconds=rng.randint(0, 730 * 86400))
    income_rng = rng_for(seed, "income", hid)
    income, assessed_on = _assessed_income(income_rng, members, enrollments, rules)
    return Household(
        id=hid,
        district=district,
        street=street,
        address=address,
        hukou_type=HukouType.RURAL if rural else HukouType.URBAN,
        members=members,
        enrollments=enrollments,
        updated_at=updated_at,
        assessed_monthly_income=income,
        income_assessed_on=assessed_on,
    )


def _per_capita(rng: random.Random, standard: Decimal, low: int, high: int, size: int) -> Decimal:
    """A monthly income of ``low``..``high`` per cent of the standard per person, in yuan."""
    cents = rng.randint(int(standard * low), int(standard * high))
    return Decimal(cents * size) / 100


def _assessed_income(
    rng: random.Random,
    members: tuple[Member, ...],
    enrollments: tuple[Enrollment, ...],
    rules: SyntheticRules,
) -> tuple[Decimal, date]:
    """The household's assessed monthly income (核定收入) and the day it was assessed.

    Drawn from a stream of its own (``rng_for(seed, "income", household_id)``), so that
    the household's other values are those drawn before incomes were assessed. The main
    category decides the income: a 低保 household's is what the 低保 amount tops up to the
    standard, a 低收入 household's 1 to 1.5 times the standard per person, a 特困
    person's next to nothing.
    """
    size = len(members)
    main = enrollments[0]
    standard = rules.standard
    if main.category is AssistanceCategory.MINIMUM_LIVING:
        income = standard * size - main.monthly_amount
    elif main.category is AssistanceCategory.EXTREME_HARDSHIP:
        income = Decimal(0) if rng.random() < 0.7 else Decimal(rng.randint(20, 300))
    elif main.category is AssistanceCategory.LOW_INCOME:
        income = _per_capita(rng, standard, 100, 150, size)
    elif main.category is AssistanceCategory.EXPENDITURE_POVERTY:
        # Poor because of what illness costs them, not for want of income.
        income = _per_capita(rng, standard, 80, 250, size)
    else:
        income = _per_capita(rng, standard, 40, 200, size)
    # Assessed within the year before AS_OF, never before the household applied.
    assessed_on = AS_OF - timedelta(days=rng.randint(0, min(364, (AS_OF - main.since).days)))
    return income.quantize(Decimal("0.01")), assessed_on


def _at_work(seed: int, household: Household, rules: SyntheticRules) -> Household:
    """The household with what follows from its members' work (human resources' records):
    the care subsidies paid to severely disabled members out of work, the part of the
    assessed income earned from work, and for a household leaving 低保 through a member's
    new job (救助渐退) the income assessed since the job began.

    Human resources draws its records from the household's members, hukou and enrollments,
    which stay as they are here; the values here come from streams of their own
    (``"disability_care"``, ``"earnings"``), so every value drawn before stays as it was.
    """
    # Imported here: the human-resources stand-in builds on this module (AS_OF, rng_for).
    from adapters.sandbox.human_resources import household_work

    work = household_work(seed, household)
    working = {r.id_number for r in work.records if r.status in WORKING}
    members = _care_subsidies(
        rng_for(seed, "disability_care", household.id), household.members, working, rules
    )
    income, assessed_on = household.assessed_monthly_income, household.income_assessed_on
    # Every synthetic household's income is assessed (``_assessed_income``).
    assert income is not None
    assert assessed_on is not None
    rng = rng_for(seed, "earnings", household.id)
    earnings = _earnings(rng, income, working - {work.leaving}, work.records)
    if work.leaving is not None:
        # Assessed again since the job began: its pay lifts the income over the standard.
        began = next(r.employed_since for r in work.records if r.id_number == work.leaving)
        assert began is not None
        before = income
        income = _per_capita(rng, rules.standard, *LEAVING_INCOME, len(members)).quantize(_CENT)
        earnings += income - before
        first = max(began, household.enrollments[0].since)
        assessed_on = first + timedelta(days=rng.randint(0, (AS_OF - first).days))
    return replace(
        household,
        members=members,
        assessed_monthly_income=income,
        income_assessed_on=assessed_on,
        assessed_monthly_earnings=earnings,
    )


def _care_subsidies(
    rng: random.Random, members: tuple[Member, ...], working: set[str], rules: SyntheticRules
) -> tuple[Member, ...]:
    """重残无业人员护理补贴: paid to most members of the rules' disability grades out of work."""
    result = []
    for m in members:
        missed = rng.random() < CARE_MISSED_SHARE
        eligible = m.disability_grade in rules.care_grades and m.id_number not in working
        paid = rules.care_subsidy is not None and eligible and not missed
        result.append(replace(m, care_subsidy=rules.care_subsidy) if paid else m)
    return tuple(result)


def _earnings(
    rng: random.Random,
    income: Decimal,
    earners: set[str],
    records: tuple[EmploymentRecord, ...],
) -> Decimal:
    """The part of ``income`` earned from work: none without ``earners``; most of it, or
    less beside a pension."""
    pensioned = any(r.monthly_pension is not None for r in records)
    low, high = (20, 70) if pensioned else (50, 100)
    share = Decimal(rng.randint(low, high)) / 100
    if not earners:
        return Decimal("0.00")
    return (income * share).quantize(_CENT, rounding=ROUND_DOWN)
