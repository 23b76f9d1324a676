"""What the synthetic departments say about work, and agree on: the part of the assessed
income earned from work (civil affairs), the day current work began (human resources),
households leaving 低保 through a member's new job (救助渐退), and the severe-disability
care subsidy (重残无业人员护理补贴) paid to members out of work (civil affairs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.human_resources import EmploymentRecord, EmploymentServiceKind, EmploymentStatus
from adapters.records import Household, Member, age_on
from adapters.sandbox import synthetic_rules
from adapters.sandbox.human_resources import LAST_POSTED, build_records
from adapters.sandbox.population import AS_OF, Population, generate
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, WorkAbility
from tests.conftest import SEED, SIZE

E = EmploymentStatus
WORKING = (E.EMPLOYED, E.FLEXIBLE)
RULES = synthetic_rules.packaged(AS_OF)
STANDARD = RULES.standard
# Work begun "within the last six months" of AS_OF (2026-10-31) began after this day.
SIX_MONTHS_BEFORE = date(2026, 4, 30)


@dataclass(frozen=True)
class World:
    """A synthetic population and what human resources holds about its members."""

    population: Population
    records: dict[str, EmploymentRecord]

    @property
    def households(self) -> tuple[Household, ...]:
        return self.population.households

    def working(self, m: Member) -> bool:
        record = self.records.get(m.id_number)
        return record is not None and record.status in WORKING

    def newly_working(self, h: Household) -> list[EmploymentRecord]:
        """The members' records whose current work began within the last six months."""
        return [
            r
            for m in h.members
            if (r := self.records.get(m.id_number)) is not None
            and r.employed_since is not None
            and r.employed_since > SIX_MONTHS_BEFORE
        ]


def _world(seed: int, size: int) -> World:
    population = generate(seed, size)
    return World(population, build_records(population))


@pytest.fixture(scope="module")
def default() -> World:
    """The population the hub's default run serves (hub.settings: seed 2026, size 2000)."""
    return _world(2026, 2000)


@pytest.fixture(scope="module")
def small() -> World:
    """The population the tests serve (tests.conftest: SEED, SIZE)."""
    return _world(SEED, SIZE)


def _active_minimum_living(h: Household) -> bool:
    main = h.enrollments[0]
    return main.category is AssistanceCategory.MINIMUM_LIVING and (
        main.status is EnrollmentStatus.ACTIVE
    )


def _over_the_standard(h: Household) -> bool:
    assert h.assessed_monthly_income is not None
    return h.assessed_monthly_income > STANDARD * len(h.members)


# The part of the income earned from work ------------------------------------------------


def test_earnings_are_the_part_of_the_income_of_members_in_work(default: World):
    earning = whole = 0
    for h in default.households:
        income, earnings = h.assessed_monthly_income, h.assessed_monthly_earnings
        assert income is not None
        assert earnings is not None
        assert 0 <= earnings <= income
        assert earnings == earnings.quantize(Decimal("0.01"))
        in_work = [m for m in h.members if default.working(m)]
        assert all(m.work_ability is not WorkAbility.NONE for m in in_work)
        if not in_work:
            assert earnings == 0, h.id
        elif income > 0:
            assert earnings > 0, h.id
        earning += earnings > 0
        whole += earnings == income > 0
    assert 300 < earning < len(default.households) / 2
    assert 0 < whole < earning / 2  # most households have some other income beside work
    assert len({h.assessed_monthly_earnings for h in default.households}) > 300


# The day current work began -------------------------------------------------------------


def _months_covered(since: date) -> int:
    """Months from ``since``'s month to the last month posted, both counted."""
    return (LAST_POSTED.year - since.year) * 12 + LAST_POSTED.month - since.month + 1


def test_only_those_in_work_have_a_day_their_work_began_mostly_long_ago(default: World):
    days = []
    for r in default.records.values():
        assert (r.employed_since is not None) == (r.status in WORKING)
        if r.employed_since is None:
            continue
        member = default.population.by_id_number[r.id_number]
        assert age_on(member.birth_date, r.employed_since) >= 16
        assert r.employed_since <= AS_OF
        posts = [s.provided_on for s in r.services if s.kind is _POST]
        if posts:
            assert r.employed_since == posts[-1]  # the public-welfare post is the job
        elif r.status is E.EMPLOYED:
            # The employed have paid contributions for every month of their current job.
            assert _months_covered(r.employed_since) <= r.contribution_months
        days.append(r.employed_since)
    recent = sum(day > SIX_MONTHS_BEFORE for day in days)
    assert len(days) > 500
    assert 0.1 * len(days) < recent < 0.4 * len(days)  # most long-standing, some recent
    assert len(set(days)) > 300


_POST = EmploymentServiceKind.PUBLIC_WELFARE_POST


# Leaving 低保 through work (救助渐退) ----------------------------------------------------


@pytest.mark.parametrize(
    ("world", "at_least"),
    [("default", 100), ("small", 3)],
    ids=["default-2026-2000", "tests-7-150"],
)
def test_some_minimum_living_households_leave_it_through_a_new_job(
    world: str, at_least: int, request: pytest.FixtureRequest
):
    """Active 低保 households whose assessed income per person is over the standard because
    a member found work within the last six months: the cases of gradual withdrawal."""
    chosen: World = request.getfixturevalue(world)
    living = [h for h in chosen.households if _active_minimum_living(h)]
    leaving = [h for h in living if _over_the_standard(h) and chosen.newly_working(h)]
    assert len(leaving) >= at_least
    assert len(leaving) >= len(living) / 10  # a fair share of them
    for h in leaving:
        income, earnings = h.assessed_monthly_income, h.assessed_monthly_earnings
        assert income is not None
        assert earnings is not None
        # Without what work brings in, the household would be under the standard ...
        assert income - earnings < STANDARD * len(h.members)
        # ... and the income was assessed after the new job began.
        assert h.income_assessed_on is not None
        newest = [r.employed_since for r in chosen.newly_working(h) if r.employed_since]
        assert min(newest) <= h.income_assessed_on <= AS_OF
        # The benefit goes on meanwhile, as it was.
        assert h.enrollments[0].monthly_amount > 0


def test_only_a_new_job_takes_an_active_minimum_living_household_over_the_standard(
    default: World,
):
    over = [h for h in default.households if _active_minimum_living(h) and _over_the_standard(h)]
    assert over
    assert all(default.newly_working(h) for h in over)
    # Recent work alone does not always lift a household over the standard.
    assert any(
        default.newly_working(h) and not _over_the_standard(h)
        for h in default.households
        if _active_minimum_living(h)
    )


# The severe-disability care subsidy (重残无业人员护理补贴) -----------------------------------


def _care(world: World) -> tuple[list[Member], list[Member]]:
    """The members the subsidy is for (the rules' grades, out of work), and the others."""
    members = list(world.population.members())
    eligible = [
        m for m in members if m.disability_grade in RULES.care_grades and not world.working(m)
    ]
    others = [m for m in members if m not in eligible]
    return eligible, others


def test_most_severely_disabled_members_out_of_work_get_the_care_subsidy(default: World):
    assert RULES.care_subsidy == Decimal(410)
    assert RULES.care_grades == (1, 2)
    eligible, others = _care(default)
    paid = [m for m in eligible if m.care_subsidy is not None]
    assert len(eligible) > 100
    assert all(m.care_subsidy == Decimal(410) for m in paid)
    assert 0.75 * len(eligible) < len(paid) < 0.95 * len(eligible)  # some are not paid
    assert all(m.care_subsidy is None for m in others)


def test_the_test_population_has_care_subsidies_paid_and_missed(small: World):
    eligible, others = _care(small)
    paid = [m for m in eligible if m.care_subsidy is not None]
    assert len(paid) >= 3
    assert len(paid) < len(eligible)  # at least one case for proactive discovery
    assert all(m.care_subsidy is None for m in others)


def _rules_file(path: Path, *replacements: tuple[str, str]) -> Path:
    text = synthetic_rules.RULES_FILE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_care_subsidy_follows_the_rules_file(tmp_path: Path):
    path = _rules_file(
        tmp_path / "rules.toml",
        (
            "{ from = 2021-01-01, amount = 410 },\n",
            "{ from = 2021-01-01, amount = 410 },\n  { from = 2026-01-01, amount = 520 },\n",
        ),
        ("grades = [1, 2]", "grades = [1]"),
    )
    rules = synthetic_rules.read(path, on=AS_OF)
    assert (rules.care_subsidy, rules.care_grades) == (Decimal(520), (1,))
    members = list(generate(3, 600, rules=rules).members())
    paid = [m for m in members if m.care_subsidy is not None]
    assert paid
    assert all(m.care_subsidy == 520 and m.disability_grade == 1 for m in paid)
    # Before the table's first entry no subsidy is in force, and nobody is paid one.
    before = synthetic_rules.read(path, on=date(2020, 12, 31))
    assert before.care_subsidy is None
    assert all(m.care_subsidy is None for m in generate(3, 600, rules=before).members())


def test_the_new_values_are_the_same_in_every_run_and_a_larger_population_starts_alike():
    first, again = generate(11, 200), generate(11, 300)
    assert again.households[:200] == first.households
    assert build_records(again).items() >= build_records(first).items()
