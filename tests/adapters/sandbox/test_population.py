import hashlib
import subprocess
import sys
from collections import Counter

from adapters import idnumber
from adapters.records import age_on
from adapters.sandbox.population import AS_OF, generate
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
