"""The scenario file format: defaults, the example, YAML and JSON, errors naming entries."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from adapters import idnumber
from adapters.education import SchoolStage, StudentRecord
from adapters.records import Enrollment, Household, Member
from adapters.sandbox.geography import STREETS
from adapters.sandbox.population import AS_OF, AS_OF_TIME
from adapters.sandbox.scenario import (
    EXAMPLE,
    Scenario,
    ScenarioError,
    ScenarioHousehold,
    parse_scenario,
    scenario_from_data,
)
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    Source,
    WorkAbility,
)
from tests.adapters.sandbox.conftest import (
    CHILD,
    HEAD,
    MINIMAL,
    OTHER,
    SPOUSE,
    minimal,
    minimal_household,
)


def test_a_minimal_household_is_an_id_and_a_member():
    scenario = parse_scenario(
        f"""
        households:
          - id: H3101159000001
            members:
              - id_number: {HEAD}
                name: 张伟
        """
    )
    head = Member(
        id_number=HEAD,
        name="张伟",
        sex=Sex.MALE,
        birth_date=date(1960, 1, 1),
        relation=Relation.HEAD,
        disability_grade=None,
        chronic_illness=False,
        work_ability=WorkAbility.NONE,  # 66 on AS_OF
        household_id="H3101159000001",
    )
    street = STREETS[District.PUDONG][0]
    household = Household(
        id="H3101159000001",
        district=District.PUDONG,
        street=street,
        address=street,
        hukou_type=HukouType.URBAN,
        members=(head,),
        enrollments=(),
        updated_at=AS_OF_TIME,
    )
    assert scenario == Scenario((ScenarioHousehold(household),))
    assert set(scenario.counts().values()) == {0, 1}


def test_enrollment_defaults_follow_the_rules_and_the_assessed_income():
    scenario = scenario_from_data(
        minimal(
            members=[
                {"id_number": HEAD, "name": "张伟"},
                {"id_number": SPOUSE, "name": "李芳", "relation": "spouse"},
            ],
            assessed_monthly_income="1000.50",
            enrollments=[
                {"category": "MINIMUM_LIVING"},
                {"category": "TEMPORARY", "monthly_amount": 3000},
                {"category": "LOW_INCOME", "status": "PENDING"},
                {"category": "EXTREME_HARDSHIP", "last_reviewed_on": None},
            ],
        )
    )
    household = scenario.households[0].household
    year_ago, month_ago = AS_OF - timedelta(days=365), AS_OF - timedelta(days=30)
    living, temporary, low, hardship = household.enrollments
    # 1550 × 2 − 1000.50, to the yuan.
    assert living == Enrollment(
        AssistanceCategory.MINIMUM_LIVING,
        EnrollmentStatus.ACTIVE,
        year_ago,
        Decimal(2100),
        True,
        month_ago,
    )
    assert (temporary.monthly_amount, temporary.last_reviewed_on) == (Decimal(3000), None)
    assert (low.status, low.monthly_amount, low.last_reviewed_on) == (
        EnrollmentStatus.PENDING,
        Decimal(0),
        None,
    )
    assert (hardship.monthly_amount, hardship.last_reviewed_on) == (Decimal(2015), None)
    assert household.assessed_monthly_income == Decimal("1000.50")
    assert household.income_assessed_on == AS_OF
    assert household.members[1].sex is Sex.FEMALE


def test_schooling_alone_makes_a_plain_student_record():
    scenario = scenario_from_data(
        minimal(
            members=[
                {"id_number": HEAD, "name": "张伟"},
                {"id_number": CHILD, "name": "张明", "relation": "CHILD", "schooling": "primary"},
            ]
        )
    )
    (student,) = scenario.households[0].education
    assert isinstance(student, StudentRecord)
    assert (student.id_number, student.stage, student.grade) == (CHILD, SchoolStage.PRIMARY, 5)
    assert student.enrolled_on == date(2022, 9, 1)
    assert student.school_district is District.PUDONG
    assert student.school_name.startswith("上海市")
    assert (student.difficulty, student.aid) == (None, ())


def test_the_example_exercises_every_department():
    scenario = parse_scenario(EXAMPLE)
    assert len(scenario) == 5
    assert all(count > 0 for count in scenario.counts().values())
    for entry in scenario.households:
        ids = {m.id_number for m in entry.household.members}
        for source in Source:
            for record in entry.records(source):
                person = getattr(record, "id_number", None)
                assert person is None or person in ids


def test_yaml_and_json_give_the_same_scenario():
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    as_json = json.dumps(data, default=str, ensure_ascii=False)
    assert parse_scenario(as_json) == parse_scenario(EXAMPLE)
    assert parse_scenario(as_json.encode()) == parse_scenario(EXAMPLE.read_bytes())
    assert scenario_from_data(data) == parse_scenario(EXAMPLE)


def test_id_numbers_may_be_yaml_integers_and_enums_any_case():
    text = f"""
    households:
      - id: H3101159000001
        district: pudong
        members:
          - {{id_number: {HEAD}, name: 张伟, work_ability: Partial}}
    """
    member = parse_scenario(text).households[0].household.members[0]
    assert (member.id_number, member.work_ability) == (HEAD, WorkAbility.PARTIAL)


def _bad_checksum(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def _events(*entries: dict[str, Any]) -> dict[str, Any]:
    return minimal(emergency_management=list(entries))


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "id-number": (
        minimal(members=[{"id_number": _bad_checksum(HEAD), "name": "张伟"}]),
        "households[0].members[0].id_number: not a valid ID number (CHECKSUM)",
    ),
    "household-id": (minimal(id="H31011590001"), "households[0].id: not a household ID"),
    "enum": (
        minimal(hukou_type="CITY"),
        "households[0].hukou_type: must be one of URBAN, RURAL",
    ),
    "unknown-field": (minimal(adress="x"), "households[0].adress: unknown field"),
    "missing": (
        minimal(members=[{"id_number": HEAD}]),
        "households[0].members[0].name: required",
    ),
    "amount": (
        minimal(enrollments=[{"category": "TEMPORARY", "monthly_amount": "10.001"}]),
        "households[0].enrollments[0].monthly_amount: Decimal input should have no more",
    ),
    "negative": (
        minimal(assessed_monthly_income=-1),
        "households[0].assessed_monthly_income: Input should be greater than or equal to 0",
    ),
    "date": (
        minimal(income_assessed_on="2026-02-30", assessed_monthly_income=1),
        "households[0].income_assessed_on: Input should be a valid date",
    ),
    "not-a-list": (minimal(members={"id_number": HEAD}), "households[0].members: must be a list"),
    "no-members": (minimal(members=[]), "households[0].members: a household has at least one"),
    "two-heads": (
        minimal(
            members=[
                {"id_number": HEAD, "name": "张伟"},
                {"id_number": SPOUSE, "name": "李芳", "relation": "HEAD"},
            ]
        ),
        "households[0].members: exactly one member must be the HEAD, not 2",
    ),
    "relation": (
        minimal(members=[{"id_number": HEAD, "name": "张伟"}, {"id_number": SPOUSE, "name": "李"}]),
        "households[0].members[1].relation: required for every member but the first",
    ),
    "district": (
        minimal(id="H3102309000001"),
        "households[0].district: required: 310230 is not a district's code",
    ),
    "income-date": (
        minimal(income_assessed_on="2026-01-01"),
        "households[0].income_assessed_on: given without assessed_monthly_income",
    ),
    "not-a-member": (
        minimal(health_insurance=[{"id_number": OTHER}]),
        f"households[0].health_insurance[0].id_number: {OTHER} is not a member of H3101159000001",
    ),
    "twice": (
        minimal(human_resources=[{"id_number": HEAD, "status": "RETIRED"}] * 2),
        f"households[0].human_resources[1].id_number: {HEAD} already has a record in "
        "households[0].human_resources[0]",
    ),
    "reimbursed": (
        minimal(
            health_insurance=[
                {
                    "id_number": HEAD,
                    "claims": [
                        {
                            "settled_on": "2026-01-01",
                            "kind": "OUTPATIENT",
                            "total_cost": 100,
                            "reimbursed": 101,
                        }
                    ],
                }
            ]
        ),
        "households[0].health_insurance[0].claims[0].reimbursed: exceeds total_cost",
    ),
    "claim-index": (
        minimal(health_insurance=[{"id_number": HEAD, "assistance": [{"claim": 0, "amount": 1}]}]),
        "households[0].health_insurance[0].assistance[0].claim: there is no claims[0]",
    ),
    "stage": (
        minimal(education=[{"id_number": HEAD}]),
        "households[0].education[0].stage: required",
    ),
    "grade": (
        minimal(education=[{"id_number": HEAD, "stage": "JUNIOR_SECONDARY", "grade": 4}]),
        "households[0].education[0].grade: JUNIOR_SECONDARY has grades 1 to 3",
    ),
    "aid-amount": (
        minimal(education=[{"id_number": HEAD, "stage": "HIGHER", "aid": [{"kind": "GRANT"}]}]),
        "households[0].education[0].aid[0].amount: required",
    ),
    "occupant": (
        minimal(housing=[{"tenure": "OWNED", "floor_area": 40, "occupants": [OTHER]}]),
        f"households[0].housing[0].occupants[0]: {OTHER} is not a member",
    ),
    "floor-area": (
        minimal(housing=[{"tenure": "OWNED", "floor_area": 0}]),
        "households[0].housing[0].floor_area: Input should be greater than 0",
    ),
    "unknown-event": (
        _events({"event": "ZH0000000000", "damage_level": "MINOR"}),
        "households[0].emergency_management[0].event: unknown event ZH0000000000",
    ),
    "own-event": (
        _events({"event": {"occurred_on": "2026-01-01"}, "damage_level": "MINOR"}),
        "households[0].emergency_management[0].event.type: required for an event of the",
    ),
    "catalogued-event": (
        _events({"event": {"id": "ZH2024091601", "type": "FLOOD"}, "damage_level": "MINOR"}),
        "households[0].emergency_management[0].event.id: ZH2024091601 is a catalogued event",
    ),
    "whole-yuan": (
        _events(
            {
                "event": "ZH2024091601",
                "damage_level": "MINOR",
                "relief": [{"stage": "EMERGENCY", "amount": "500.50"}],
            }
        ),
        "households[0].emergency_management[0].relief[0].amount: must be whole yuan",
    ),
    "project": (
        minimal(charity=[{"project_id": "nope", "amount": 1, "given_on": "2026-01-01"}]),
        "households[0].charity[0].project_id: unknown project nope",
    ),
    "earnings-without-income": (
        minimal(assessed_monthly_earnings=100),
        "households[0].assessed_monthly_earnings: given without assessed_monthly_income",
    ),
    "earnings-over-income": (
        minimal(assessed_monthly_income=1000, assessed_monthly_earnings="1000.01"),
        "households[0].assessed_monthly_earnings: exceeds assessed_monthly_income",
    ),
    "care-subsidy": (
        minimal(members=[{"id_number": HEAD, "name": "张伟", "care_subsidy": -410}]),
        "households[0].members[0].care_subsidy: Input should be greater than or equal to 0",
    ),
    "employed-since-out-of-work": (
        minimal(
            human_resources=[
                {"id_number": HEAD, "status": "RETIRED", "employed_since": "2020-01-01"}
            ]
        ),
        "households[0].human_resources[0].employed_since: only for someone EMPLOYED or FLEXIBLE",
    ),
    "employed-since-date": (
        minimal(
            human_resources=[
                {"id_number": HEAD, "status": "EMPLOYED", "employed_since": "2026-13-01"}
            ]
        ),
        "households[0].human_resources[0].employed_since: Input should be a valid date",
    ),
}


@pytest.mark.parametrize(("data", "message"), CASES.values(), ids=list(CASES))
def test_every_problem_names_its_entry(data: dict[str, Any], message: str):
    with pytest.raises(ScenarioError) as caught:
        scenario_from_data(data)
    assert any(e.startswith(message) for e in caught.value.errors), caught.value.errors
    assert message in str(caught.value)


def test_a_person_in_two_households_names_both():
    data = {
        "households": [
            MINIMAL["households"][0],
            {"id": "H3101049000002", "members": [{"id_number": OTHER, "name": "王"}]},
            {"id": "H3101049000003", "members": [{"id_number": HEAD, "name": "张伟"}]},
        ]
    }
    with pytest.raises(ScenarioError) as caught:
        scenario_from_data(data)
    assert caught.value.errors == (
        f"households[2].members[0].id_number: {HEAD} of household H3101049000003 is already "
        "a member of household H3101159000001 (households[0].members[0])",
    )


def test_a_household_twice_and_an_event_defined_twice_are_refused():
    fire = {"id": "ZH1", "type": "FIRE", "occurred_on": "2026-01-01"}
    data = {
        "households": [
            minimal_household(emergency_management=[{"event": fire, "damage_level": "MINOR"}]),
            {
                "id": "H3101049000002",
                "members": [{"id_number": OTHER, "name": "王"}],
                "emergency_management": [
                    {"event": {**fire, "name": "another"}, "damage_level": "MINOR"}
                ],
            },
            MINIMAL["households"][0],
        ]
    }
    with pytest.raises(ScenarioError) as caught:
        scenario_from_data(data)
    assert caught.value.errors == (
        "households[1].emergency_management[0].event: event ZH1 is defined differently in "
        "households[0].emergency_management[0].event",
        "households[2].id: H3101159000001 is also households[0]",
    )


def test_an_event_of_the_scenario_may_be_named_again_by_its_id():
    fire = {"id": "ZH1", "type": "FIRE", "occurred_on": "2026-01-01", "name": "楼道火灾"}
    data = {
        "households": [
            minimal_household(emergency_management=[{"event": fire, "damage_level": "MINOR"}]),
            {
                "id": "H3101049000002",
                "members": [{"id_number": OTHER, "name": "王"}],
                "emergency_management": [{"event": "ZH1", "damage_level": "SEVERE"}],
            },
        ]
    }
    first, second = (e.emergency_management[0] for e in scenario_from_data(data).households)
    assert first.event == second.event


def test_every_problem_is_reported_at_once():
    data = minimal(
        hukou_type="CITY",
        members=[{"id_number": _bad_checksum(HEAD), "name": ""}],
    )
    with pytest.raises(ScenarioError) as caught:
        scenario_from_data(data)
    assert len(caught.value.errors) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("households: [", "not YAML: line 1"),
        ('{"households": [}', "not JSON: line 1"),
        ("- a list", "must be a mapping"),
        ("households: []\nhouseholds: []\n", "not YAML: line 2: duplicate key 'households'"),
        ('{"households": [], "households": []}', "not JSON: duplicate key 'households'"),
        ("", "must be a mapping"),
    ],
)
def test_text_that_is_not_a_scenario(text: str, message: str):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert caught.value.errors[0].startswith(message)


def test_a_file_names_itself_in_its_errors(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("households: 3\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(path)
    assert str(caught.value).startswith(f"{path} is not valid:")
    assert caught.value.errors == ("households: must be a list",)
    with pytest.raises(ScenarioError, match="cannot read the file"):
        parse_scenario(tmp_path / "missing.yaml")


# Work: earnings, the day work began, the care subsidy ------------------------------------

# A severely disabled adult (born 1980) and a youth who turned 16 on 2026-03-15.
DISABLED = idnumber.make("310115", date(1980, 6, 1), 55)
YOUTH = idnumber.make("310115", date(2010, 3, 15), 77)


def _household(**fields: Any) -> Household:
    return scenario_from_data(minimal(**fields)).households[0].household


def _employment(status: str, **fields: Any) -> dict[str, Any]:
    return {"id_number": HEAD, "status": status, **fields}


@pytest.mark.parametrize(
    ("fields", "earnings"),
    [
        ({}, None),  # no assessed income: nothing to split
        ({"assessed_monthly_income": 3000}, Decimal(0)),  # nobody in work
        (
            {
                "assessed_monthly_income": 3000,
                "human_resources": [_employment("FLEXIBLE")],
            },
            Decimal(3000),
        ),
        (
            {
                "assessed_monthly_income": 3000,
                "human_resources": [_employment("RETIRED", monthly_pension=3000)],
            },
            Decimal(0),
        ),
        (
            {
                "assessed_monthly_income": 3000,
                "assessed_monthly_earnings": "1250.50",
                "human_resources": [_employment("EMPLOYED")],
            },
            Decimal("1250.50"),
        ),
        (
            {
                "assessed_monthly_income": 3000,
                "assessed_monthly_earnings": None,
                "human_resources": [_employment("EMPLOYED")],
            },
            None,
        ),
    ],
    ids=["no-income", "nobody-works", "someone-works", "pension", "given", "null"],
)
def test_earnings_default_to_the_income_of_a_household_with_someone_in_work(
    fields: dict[str, Any], earnings: Decimal | None
):
    assert _household(**fields).assessed_monthly_earnings == earnings


@pytest.mark.parametrize(
    ("member", "employment", "subsidy"),
    [
        ({"disability_grade": 1}, None, Decimal(410)),
        ({"disability_grade": 2}, _employment("RETIRED"), Decimal(410)),
        ({"disability_grade": 2}, _employment("EMPLOYED"), None),  # in work
        ({"disability_grade": 3}, None, None),  # not a grade the rules pay for
        ({}, None, None),
        ({"disability_grade": 1, "care_subsidy": None}, None, None),  # not paid: a case
        ({"disability_grade": 1, "care_subsidy": 300}, None, Decimal(300)),
        ({"care_subsidy": "410.00"}, _employment("EMPLOYED"), Decimal(410)),  # as written
    ],
    ids=["grade-1", "retired", "in-work", "grade-3", "none", "null", "given", "given-anyway"],
)
def test_the_care_subsidy_defaults_by_the_rules(
    member: dict[str, Any], employment: dict[str, Any] | None, subsidy: Decimal | None
):
    members = [{"id_number": HEAD, "name": "张伟", **member}]
    household = _household(
        members=members,
        human_resources=[employment] if employment is not None else [],
    )
    assert household.members[0].care_subsidy == subsidy


@pytest.mark.parametrize(
    ("who", "employment", "since"),
    [
        (HEAD, _employment("EMPLOYED"), AS_OF - timedelta(days=365)),
        (HEAD, _employment("FLEXIBLE", employed_since="2026-08-03"), date(2026, 8, 3)),
        (HEAD, _employment("EMPLOYED", employed_since=None), None),
        (HEAD, _employment("REGISTERED_UNEMPLOYED"), None),
        (YOUTH, {"id_number": YOUTH, "status": "FLEXIBLE"}, date(2026, 3, 15)),  # at 16
    ],
    ids=["default", "given", "null", "out-of-work", "youth"],
)
def test_the_day_work_began_defaults_to_a_year_ago_for_someone_in_work(
    who: str, employment: dict[str, Any], since: date | None
):
    members = [{"id_number": HEAD, "name": "张伟"}]
    if who != HEAD:
        members.append({"id_number": who, "name": "张小明", "relation": "CHILD"})
    (record,) = (
        scenario_from_data(minimal(members=members, human_resources=[employment]))
        .households[0]
        .human_resources
    )
    assert record.employed_since == since


def test_a_household_leaving_minimum_living_through_work_is_written_as_it_is():
    """救助渐退: the income over the standard, most of it from a job begun in August."""
    household = scenario_from_data(
        minimal(
            members=[
                {"id_number": HEAD, "name": "张伟"},
                {"id_number": DISABLED, "name": "张强", "relation": "CHILD", "disability_grade": 1},
            ],
            assessed_monthly_income=3400,
            income_assessed_on="2026-09-20",
            assessed_monthly_earnings=2900,
            enrollments=[{"category": "MINIMUM_LIVING", "monthly_amount": 2600}],
            human_resources=[
                _employment("EMPLOYED", employed_since="2026-08-01", wage_band="MINIMUM_TO_1_5X")
            ],
        )
    ).households[0]
    h = household.household
    assert (h.assessed_monthly_income, h.assessed_monthly_earnings) == (
        Decimal(3400),
        Decimal(2900),
    )
    assert h.enrollments[0].monthly_amount == 2600
    assert [m.care_subsidy for m in h.members] == [None, Decimal(410)]
    assert household.human_resources[0].employed_since == date(2026, 8, 1)


def test_the_example_documents_the_new_fields():
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in ("assessed_monthly_earnings:", "care_subsidy:", "employed_since:"):
        assert key in text
    first, hardship, family, low, least = parse_scenario(EXAMPLE).households
    assert first.household.assessed_monthly_earnings == 1200
    assert [m.care_subsidy for m in first.household.members] == [None, None, Decimal(410)]
    assert [r.employed_since for r in first.human_resources] == [date(2021, 3, 1), None]
    assert hardship.household.assessed_monthly_earnings == 0
    assert family.household.assessed_monthly_earnings == 7800  # the spouse works
    assert [r.employed_since for r in family.human_resources] == [
        None,
        AS_OF - timedelta(days=365),
        None,
    ]
    assert low.household.assessed_monthly_earnings == 0
    assert least.household.assessed_monthly_earnings is None
