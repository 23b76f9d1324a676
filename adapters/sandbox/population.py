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
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

from adapters import idnumber
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
    households = tuple(_household(seed, i, used, rules) for i in range(size))
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
