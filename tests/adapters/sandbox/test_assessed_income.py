"""The households' assessed monthly income (核定收入): drawn to agree with their categories
and the 低保 standard, and carried by civil affairs to the hub."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.base import BadUpstreamData
from adapters.civil_affairs import CivilAffairsAdapter
from adapters.records import Household
from adapters.registry import Adapters
from adapters.sandbox import synthetic_rules
from adapters.sandbox.civil_affairs import household_json
from adapters.sandbox.population import AS_OF, Population, generate
from adapters.vocabulary import AssistanceCategory, Source
from tests.adapters.conftest import mocked

STANDARD = synthetic_rules.packaged(AS_OF).standard


@pytest.fixture(scope="module")
def households() -> tuple[Household, ...]:
    return generate(3, 2000).households


def _main(h: Household) -> AssistanceCategory:
    return h.enrollments[0].category


def _per_capita(h: Household) -> Decimal:
    assert h.assessed_monthly_income is not None
    return h.assessed_monthly_income / len(h.members)


def test_every_synthetic_household_has_an_assessed_income_from_the_last_year(
    households: tuple[Household, ...],
):
    for h in households:
        assert h.assessed_monthly_income is not None
        assert h.assessed_monthly_income >= 0
        assert h.income_assessed_on is not None
        assert AS_OF - timedelta(days=365) < h.income_assessed_on <= AS_OF
        assert h.income_assessed_on >= h.enrollments[0].since


def test_minimum_living_households_are_under_the_standard_and_agree_with_their_amount(
    households: tuple[Household, ...],
):
    """Unless a member's new job has just lifted the household over the standard (救助渐退,
    ``test_work.py``): then the income less what is earned from work is still at most what
    the 低保 amount tops up to the standard."""
    living = [h for h in households if _main(h) is AssistanceCategory.MINIMUM_LIVING]
    assert len(living) > 500
    over = {h.id for h in living if _per_capita(h) >= STANDARD}
    for h in living:
        assert h.assessed_monthly_income is not None
        assert h.assessed_monthly_earnings is not None
        # 低保 tops the income up to the standard: together they make the standard.
        topped_up = STANDARD * len(h.members) - h.enrollments[0].monthly_amount
        if h.id in over:
            assert h.assessed_monthly_income - h.assessed_monthly_earnings <= topped_up
        else:
            assert h.assessed_monthly_income == topped_up
    assert 0 < len(over) < len(living) / 4
    assert len({_per_capita(h) for h in living if h.id not in over}) > 50  # drawn, not one figure


def test_low_income_households_are_between_one_and_one_and_a_half_standards(
    households: tuple[Household, ...],
):
    low = [h for h in households if _main(h) is AssistanceCategory.LOW_INCOME]
    assert len(low) > 200
    assert all(STANDARD <= _per_capita(h) <= STANDARD * Decimal("1.5") for h in low)


def test_extreme_hardship_incomes_are_next_to_nothing(households: tuple[Household, ...]):
    hardship = [h for h in households if _main(h) is AssistanceCategory.EXTREME_HARDSHIP]
    assert hardship
    assert all(_per_capita(h) <= 300 for h in hardship)
    assert sum(h.assessed_monthly_income == 0 for h in hardship) > len(hardship) / 2


def test_incomes_follow_the_standard_in_the_rules_file(tmp_path):
    text = synthetic_rules.RULES_FILE.read_text(encoding="utf-8")
    path = tmp_path / "rules.toml"
    path.write_text(text.replace("amount = 1550 }", "amount = 2000 }"), encoding="utf-8")
    rules = synthetic_rules.read(path, on=AS_OF)
    assert rules.standard == 2000
    for h in generate(3, 300, rules=rules).households:
        if _main(h) is AssistanceCategory.MINIMUM_LIVING:
            # Under the standard, or over it by a new job's pay alone (救助渐退).
            assert h.assessed_monthly_income is not None
            assert h.assessed_monthly_earnings is not None
            assert h.assessed_monthly_income - h.assessed_monthly_earnings < 2000 * len(h.members)
            assert _per_capita(h) <= 2000 * Decimal("1.4")
        if _main(h) is AssistanceCategory.LOW_INCOME:
            assert 2000 <= _per_capita(h) <= 3000


def test_incomes_are_the_same_in_every_run_and_leave_other_values_alone():
    first, again = generate(11, 200), generate(11, 201)
    assert again.households[:200] == first.households
    assert len({h.assessed_monthly_income for h in first.households}) > 100


async def test_the_adapter_reads_the_assessed_income(adapters: Adapters, population: Population):
    wanted = population.households[:20]
    found = await adapters.civil_affairs.households([h.id for h in wanted])
    for h in wanted:
        assert found[h.id].assessed_monthly_income == h.assessed_monthly_income
        assert found[h.id].income_assessed_on == h.income_assessed_on


async def test_a_department_without_assessed_incomes_reads_as_none(population: Population):
    household = population.households[0]
    body = household_json(household)
    del body["assessedMonthlyIncome"], body["incomeAssessedOn"]
    adapter = mocked(Source.CIVIL_AFFAIRS, {"households": [body], "notFound": []})
    assert isinstance(adapter, CivilAffairsAdapter)
    (found,) = (await adapter.fetch([household.id]))[household.id]
    assert (found.assessed_monthly_income, found.income_assessed_on) == (None, None)
    assert found.members == household.members


async def test_an_assessed_income_that_is_not_an_amount_is_bad_upstream_data(
    population: Population,
):
    body = household_json(population.households[0])
    body["assessedMonthlyIncome"] = "-5.00"
    adapter = mocked(Source.CIVIL_AFFAIRS, {"households": [body], "notFound": []})
    with pytest.raises(BadUpstreamData):
        await adapter.fetch([population.households[0].id])
