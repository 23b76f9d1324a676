import hashlib
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from adapters import idnumber
from adapters.records import age_on
from adapters.sandbox import synthetic_rules
from adapters.sandbox.population import AS_OF, Population, generate
from adapters.sandbox.synthetic_rules import SyntheticRules
from adapters.vocabulary import AssistanceCategory, District, Relation, WorkAbility

DIGEST = (
    "import hashlib, sys; from adapters.sandbox.population import generate; "
    "print(hashlib.sha256(repr(generate(int(sys.argv[1]), int(sys.argv[2])).households)"
    ".encode()).hexdigest())"
)


def _digest(seed: int, size: int) -> str:
    return hashlib.sha256(repr(generate(seed, size).households).encode()).hexdigest()


def test_same_seed_and_size_give_the_same_households_in_another_process():
    other = subprocess.run(  # noqa: S603
        [sys.executable, "-c", DIGEST, "11", "300"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    )
    assert other.stdout.strip() == _digest(11, 300)


def test_a_larger_population_starts_with_the_smaller_one():
    assert generate(5, 400).households[:100] == generate(5, 100).households


def test_different_seeds_give_different_households():
    assert _digest(1, 50) != _digest(2, 50)


def test_id_numbers_are_valid_unique_and_agree_with_birth_date_and_sex():
    population = generate(3, 2000)
    members = list(population.members())
    assert len({m.id_number for m in members}) == len(members)
    for m in members:
        parsed = idnumber.parse(m.id_number)
        assert parsed.birth_date == m.birth_date
        assert parsed.sex is m.sex


def test_households_have_one_head_and_one_to_six_members_in_shanghai():
    population = generate(3, 2000)
    for h in population.households:
        assert 1 <= len(h.members) <= 6
        assert [m.relation for m in h.members].count(Relation.HEAD) == 1
        assert h.id.startswith("H" + h.district.code)
        assert all(m.household_id == h.id for m in h.members)
    assert {h.district for h in population.households} == set(District)
    sizes = [len(h.members) for h in population.households]
    assert 1.2 < sum(sizes) / len(sizes) < 2.0  # assisted households are small


def test_categories_come_in_realistic_shares():
    population = generate(3, 2000)
    counts = Counter(e.category for h in population.households for e in h.enrollments)
    assert set(counts) == set(AssistanceCategory)
    assert counts.most_common(1)[0][0] is AssistanceCategory.MINIMUM_LIVING
    for h in population.households:
        if any(e.category is AssistanceCategory.EXTREME_HARDSHIP for e in h.enrollments):
            assert len(h.members) == 1
            assert h.members[0].work_ability is WorkAbility.NONE


def test_children_are_younger_than_the_head():
    for h in generate(3, 2000).households:
        head_age = age_on(h.head.birth_date, AS_OF)
        for m in h.members:
            if m.relation is Relation.CHILD:
                assert age_on(m.birth_date, AS_OF) < head_age


def _rules_file(path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the packaged rules file with pieces of text replaced."""
    text = synthetic_rules.RULES_FILE.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def _with_standard(tmp_path: Path, amount: int) -> SyntheticRules:
    return synthetic_rules.read(
        _rules_file(
            tmp_path / f"standard-{amount}.toml",
            ("{ from = 2024-07-01, amount = 1550 }", f"{{ from = 2024-07-01, amount = {amount} }}"),
        ),
        on=AS_OF,
    )


def _amounts(population: Population, category: AssistanceCategory) -> list[tuple[str, Decimal]]:
    return [
        (h.id, e.monthly_amount)
        for h in population.households
        for e in h.enrollments
        if e.category is category
    ]


def test_minimum_living_amounts_stay_under_the_files_standard():
    standard = synthetic_rules.read(on=AS_OF).standard
    for h in generate(3, 2000).households:
        for e in h.enrollments:
            if e.category is AssistanceCategory.MINIMUM_LIVING:
                assert standard * len(h.members) * Decimal("0.4") <= e.monthly_amount
                assert e.monthly_amount <= standard * len(h.members)


def test_amounts_follow_the_standard_in_the_rules_file(tmp_path):
    low = generate(3, 300, rules=_with_standard(tmp_path, 1000))
    high = generate(3, 300, rules=_with_standard(tmp_path, 2000))
    assert [h.members for h in low.households] == [h.members for h in high.households]
    living = AssistanceCategory.MINIMUM_LIVING
    assert [(i, 2 * a) for i, a in _amounts(low, living)] == _amounts(high, living)
    hardship = AssistanceCategory.EXTREME_HARDSHIP
    assert {a for _, a in _amounts(low, hardship)} == {Decimal(1300)}
    assert {a for _, a in _amounts(high, hardship)} == {Decimal(2600)}


def test_a_standard_not_yet_in_force_on_as_of_is_not_used(tmp_path):
    path = _rules_file(
        tmp_path / "rules.toml",
        (
            "{ from = 2024-07-01, amount = 1550 },",
            "{ from = 2024-07-01, amount = 1550 },\n  { from = 2027-01-01, amount = 9999 },",
        ),
    )
    assert synthetic_rules.read(path, on=AS_OF).standard == Decimal(1550)
    assert generate(3, 300, rules=synthetic_rules.read(path, on=AS_OF)) == generate(3, 300)


def test_review_dates_follow_the_cycles_in_the_rules_file(tmp_path):
    def oldest_low_income_review(population: Population) -> date:
        return min(
            e.last_reviewed_on
            for h in population.households
            for e in h.enrollments
            if e.category is AssistanceCategory.LOW_INCOME and e.last_reviewed_on
        )

    # Reviews are drawn up to 1.4 cycles back: quarterly ones stay within 127 days.
    assert AS_OF - oldest_low_income_review(generate(3, 2000)) <= timedelta(days=127)
    yearly = synthetic_rules.read(
        _rules_file(
            tmp_path / "rules.toml",
            ("[review.LOW_INCOME]\nmonths = 3", "[review.LOW_INCOME]\nmonths = 12"),
        ),
        on=AS_OF,
    )
    assert AS_OF - oldest_low_income_review(generate(3, 2000, rules=yearly)) > timedelta(days=127)
