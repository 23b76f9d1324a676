from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.human_resources import EmploymentStatus
from adapters.sandbox import synthetic_rules as sandbox_rules
from adapters.sandbox.population import AS_OF
from adapters.vocabulary import AssistanceCategory
from hub.rules import (
    PACKAGED_RULES,
    NotInForce,
    ReviewCycle,
    RulesError,
    default_rules,
    load,
    synthetic_rules,
)
from hub.rules.cli import rules as rules_group

PACKAGED_TEXT = PACKAGED_RULES.read_text(encoding="utf-8")


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the packaged rules with one piece of text replaced."""
    assert old in PACKAGED_TEXT
    path = tmp_path / "rules.toml"
    path.write_text(PACKAGED_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, ...]:
    with pytest.raises(RulesError) as caught:
        load(path)
    return caught.value.problems


def test_the_packaged_file_loads():
    rules = load()
    assert rules.version == "shanghai-2026.1"
    assert default_rules() is default_rules()
    assert default_rules() == rules


@pytest.mark.parametrize(
    ("day", "standard"),
    [
        (date(2019, 4, 1), 1160),
        (date(2020, 3, 31), 1160),
        (date(2020, 4, 1), 1240),
        (date(2021, 6, 30), 1240),
        (date(2021, 7, 1), 1330),
        (date(2024, 7, 1), 1550),
        (AS_OF, 1550),
    ],
)
def test_the_standard_in_force_changes_on_its_effective_date(day, standard):
    assert load().standard_on(day) == Decimal(standard)


def test_there_is_no_standard_before_the_table_starts():
    with pytest.raises(NotInForce, match=r"2019-03-31.*starts on 2019-04-01"):
        load().standard_on(date(2019, 3, 31))


def test_the_near_standard_and_extreme_hardship_lines_are_multiples_of_the_standard():
    rules = load()
    assert rules.near_standard_on(date(2021, 7, 1)) == Decimal(1995)
    assert rules.extreme_hardship_standard_on(date(2021, 7, 1)) == Decimal(1729)


def test_the_care_subsidy_is_effective_dated():
    rules = load()
    assert rules.care_subsidy_on(date(2021, 1, 1)) == Decimal(410)
    with pytest.raises(NotInForce):
        rules.care_subsidy_on(date(2020, 12, 31))


@pytest.mark.parametrize(
    ("category", "months", "term"),
    [
        (AssistanceCategory.LOW_INCOME, 3, "按季度复核"),
        (AssistanceCategory.EXPENDITURE_POVERTY, 3, "按季度复核"),
        (AssistanceCategory.EXTREME_HARDSHIP, 12, "每年复核"),
        (AssistanceCategory.MINIMUM_LIVING, 12, "每年复核"),
    ],
)
def test_review_cycles_by_category(category, months, term):
    cycle = load().review_cycle(category, income_stable=True, able_to_work_member=True)
    assert cycle is not None
    assert cycle.months == months
    assert term in cycle.reason


@pytest.mark.parametrize(
    ("income_stable", "able_to_work_member", "months"),
    [(False, True, 6), (True, True, 12), (False, False, 12), (True, False, 12)],
)
def test_minimum_living_is_reviewed_half_yearly_only_with_unstable_income_and_a_worker(
    income_stable, able_to_work_member, months
):
    cycle = load().review_cycle(
        AssistanceCategory.MINIMUM_LIVING,
        income_stable=income_stable,
        able_to_work_member=able_to_work_member,
    )
    assert cycle is not None
    assert cycle.months == months


def test_temporary_aid_is_never_reviewed():
    rules = load()
    assert (
        rules.review_cycle(
            AssistanceCategory.TEMPORARY, income_stable=False, able_to_work_member=True
        )
        is None
    )


def test_the_next_review_keeps_the_day_or_takes_the_last_day_of_a_shorter_month():
    assert ReviewCycle(3, "").due_after(date(2026, 1, 15)) == date(2026, 4, 15)
    assert ReviewCycle(6, "").due_after(date(2026, 8, 31)) == date(2027, 2, 28)
    assert ReviewCycle(12, "").due_after(date(2027, 2, 28)) == date(2028, 2, 28)


def test_the_other_sections_are_read():
    rules = load()
    assert rules.withdrawal.max_months == 6
    assert rules.income_exemption.share == Decimal("0.3")
    assert rules.approval.total_working_days == 30
    assert rules.extreme_hardship.covers_minor(18, in_full_time_schooling=True)
    assert not rules.extreme_hardship.covers_minor(18, in_full_time_schooling=False)
    assert rules.zero_employment.counts_as_employed(EmploymentStatus.FLEXIBLE)
    assert not rules.zero_employment.counts_as_employed(EmploymentStatus.REGISTERED_UNEMPLOYED)
    assert rules.disability_care.grades == (1, 2)


def test_the_sandbox_reads_the_file_as_the_hub_does():
    assert synthetic_rules(load(), AS_OF) == sandbox_rules.read(on=AS_OF)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "unstable_months = 6",
            "unstable_months = -1",
            "review.MINIMUM_LIVING.unstable_months: must be at least 1",
        ),
        (
            "{ from = 2020-04-01, amount = 1240 }",
            "{ from = 2021-09-01, amount = 1240 }",
            "minimum_living.standard[2].from: must be later than 2021-09-01",
        ),
        ("max_months = 6", "max_months = 6\nbonus = 1", "withdrawal.bonus: unknown key"),
        ("share = 0.3", "share = 1.2", "income_exemption.share: must be at most 1"),
        (
            "{ from = 2019-04-01, amount = 1160 }",
            '{ from = 2019-04-01, amount = "1160" }',
            "minimum_living.standard[0].amount: must be a number",
        ),
        (
            "{ from = 2019-04-01, amount = 1160 }",
            '{ from = "2019-04-01", amount = 1160 }',
            "minimum_living.standard[0].from: must be a date",
        ),
        ("[review.LOW_INCOME]", "[review.LOW_INCOMES]", "review.LOW_INCOMES: unknown key"),
        ("one_off = true", "one_off = true\nmonths = 1", "review.TEMPORARY.months: give months"),
        (
            'employed_statuses = ["EMPLOYED", "FLEXIBLE"]',
            'employed_statuses = ["EMPLOYED", "BUSY"]',
            "zero_employment.employed_statuses[1]: must be one of",
        ),
        ("version = ", "edition = ", "version: missing"),
    ],
)
def test_a_bad_file_names_the_entry(tmp_path, old, new, expected):
    problems = problems_of(edited(tmp_path, old, new))
    assert any(p.startswith(expected) for p in problems), problems


def test_a_category_without_a_review_cycle_is_an_error(tmp_path):
    start = PACKAGED_TEXT.index("[review.TEMPORARY]")
    end = PACKAGED_TEXT.index("\n\n", start) + 2
    path = edited(tmp_path, PACKAGED_TEXT[start:end], "")
    assert problems_of(path) == (
        "review.TEMPORARY: missing (every assistance category needs a review cycle)",
    )


def test_an_empty_table_is_an_error(tmp_path):
    start = PACKAGED_TEXT.index("subsidy = [")
    end = PACKAGED_TEXT.index("]", start) + 1
    path = edited(tmp_path, PACKAGED_TEXT[start:end], "subsidy = []")
    assert problems_of(path) == ("disability_care.subsidy: must not be empty",)


def test_every_problem_is_reported_at_once_in_plain_words(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        PACKAGED_TEXT.replace("share = 0.3", "share = 0")
        .replace("public_notice_days = 7", "public_notice_days = 7.5")
        .replace("max_months = 6", "max_months = 0"),
        encoding="utf-8",
    )
    with pytest.raises(RulesError) as caught:
        load(path)
    assert caught.value.problems == (
        "withdrawal.max_months: must be at least 1",
        "income_exemption.share: must be greater than 0",
        "approval.public_notice_days: must be a whole number",
    )
    assert str(caught.value).startswith(f"{path}: the rules are not valid:\n  withdrawal.")
    assert "Input should" not in str(caught.value)
    assert "pydantic" not in str(caught.value)


def test_a_file_that_is_not_toml_is_an_error(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("version = shanghai\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith("not valid TOML: ")
    assert "line 1" in problem


def test_a_missing_file_is_an_error(tmp_path):
    (problem,) = problems_of(tmp_path / "absent.toml")
    assert problem.startswith("cannot read the file")


def test_check_accepts_a_good_file():
    result = CliRunner().invoke(rules_group, ["check", str(PACKAGED_RULES)])
    assert result.exit_code == 0
    assert result.output == f"{PACKAGED_RULES}: rules shanghai-2026.1 are valid\n"


def test_check_names_each_problem_of_a_bad_file(tmp_path):
    path = edited(tmp_path, "review_within_days = 15", "review_within_days = 0\nextra = 1")
    result = CliRunner().invoke(rules_group, ["check", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: the rules are not valid:",
        "  change_report.review_within_days: must be at least 1",
        "  change_report.extra: unknown key",
    ]
    assert result.stdout == ""


def test_show_prints_the_version_the_file_and_the_standard_table():
    result = CliRunner().invoke(rules_group, ["show"], env={"HUB_RULES_FILE": None})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:2] == ["rules shanghai-2026.1", f"file  {PACKAGED_RULES}"]
    table = lines.index("    from 2019-04-01  1160")
    assert lines[table : table + 3] == [
        "    from 2019-04-01  1160",
        "    from 2020-04-01  1240",
        "    from 2021-07-01  1330",
    ]
    assert "[income_exemption]" in result.output
    assert "  TEMPORARY: one-off, never reviewed" in result.output


def test_show_reads_the_file_the_settings_name(tmp_path):
    path = edited(tmp_path, 'version = "shanghai-2026.1"', 'version = "trial-7"')
    result = CliRunner().invoke(rules_group, ["show"], env={"HUB_RULES_FILE": str(path)})
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == ["rules trial-7", f"file  {path}"]


def test_show_refuses_a_bad_file(tmp_path):
    path = edited(tmp_path, "floor_area_per_person = 15", "floor_area_per_person = -15")
    result = CliRunner().invoke(rules_group, ["show"], env={"HUB_RULES_FILE": str(path)})
    assert result.exit_code == 1
    assert "housing.floor_area_per_person: must be greater than 0" in result.stderr
