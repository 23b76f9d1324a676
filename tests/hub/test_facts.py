"""What the hub derives from one department's records of a household (``hub.households.facts``).

Each test builds a ``Part`` by hand (the member ID numbers in household order, with the
records each member has) and judges it by the packaged rules; thresholds are read from
the rules rather than written out, so the tests follow the rules file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from adapters import records
from adapters.cache import Freshness
from adapters.charity import CharityAid, CharityAidKind, CharityRecipient
from adapters.education import (
    EducationAid,
    EducationAidKind,
    EducationDifficulty,
    SchoolStage,
    StudentRecord,
)
from adapters.emergency_management import (
    DisasterDamageLevel,
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    ReliefPayment,
)
from adapters.health_insurance import (
    MedicalAssistanceKind,
    MedicalAssistancePayment,
    MedicalClaim,
    MedicalClaimKind,
    MedicalRecord,
    MedicalScheme,
)
from adapters.housing import Dwelling, HousingTenure, LowRentHousing
from adapters.human_resources import EmploymentRecord, EmploymentStatus, WageBand
from adapters.vocabulary import District, HukouType, Relation, Sex, Source, WorkAbility
from hub import rules as hub_rules
from hub.households import facts
from hub.households.facts import Part
from hub.rules import Rules

R = TypeVar("R")
RULES = hub_rules.load()
TODAY = date(2026, 10, 31)
AS_OF = datetime(2026, 10, 31, 4, 0, tzinfo=UTC)
E = EmploymentStatus
WORKING = (E.EMPLOYED, E.FLEXIBLE)
HEAD, SPOUSE, CHILD = "310115197001010013", "310115197205050028", "310115200808080035"
UNKNOWN = "310101199001010011"


def part(source: Source, keys: Sequence[str], found: Mapping[str, Sequence[R]]) -> Part[R]:
    """A department's part of a household: ``keys`` are the members' ID numbers in order."""
    return Part(source, tuple(keys), found, Freshness.LIVE, AS_OF, 0.0)


# --- 医保 -------------------------------------------------------------------------------


def _claim(
    settlement_id: str, total: str, reimbursed: str, *, serious: bool = False
) -> MedicalClaim:
    return MedicalClaim(
        settlement_id,
        date(2026, 1, 2),
        MedicalClaimKind.INPATIENT,
        Decimal(total),
        Decimal(reimbursed),
        serious,
    )


def _record(
    id_number: str, *claims: MedicalClaim, assistance: Decimal = Decimal(0)
) -> MedicalRecord:
    payments = (
        (
            MedicalAssistancePayment(
                date(2026, 1, 2), MedicalAssistanceKind.INPATIENT, assistance, None
            ),
        )
        if assistance
        else ()
    )
    return MedicalRecord(
        id_number,
        MedicalScheme.RESIDENT,
        date(2020, 1, 1),
        2026,
        Decimal("880.00"),
        Decimal("880.00"),
        claims,
        payments,
    )


def _medical(keys: Sequence[str], found: Mapping[str, Sequence[MedicalRecord]]) -> Part[Any]:
    return part(Source.HEALTH_INSURANCE, keys, found)


def test_medical_adds_up_the_members_once_and_lists_the_uninsured() -> None:
    stay = MedicalClaim(
        "S1",
        date(2026, 1, 2),
        MedicalClaimKind.INPATIENT,
        Decimal("50000.00"),
        Decimal("35000.50"),
        True,
    )
    visit = MedicalClaim(
        "S2",
        date(2026, 2, 3),
        MedicalClaimKind.OUTPATIENT,
        Decimal("300.00"),
        Decimal("180.00"),
        False,
    )
    mother = _record("A", stay, assistance=Decimal("12000.00"))
    child = _record("B", visit)
    found = facts.medical(
        _medical(
            ["A", "B", "C", "A"],
            {"A": [mother], "B": [child], "C": [], "D": [_record("D", stay)]},
        ),
        RULES,
        TODAY,
    )
    assert [p.id_number for p in found.insured] == ["A", "B"]
    assert found.uninsured_id_numbers == ("C",)
    assert found.total_cost == Decimal("50300.00")
    assert found.total_out_of_pocket == Decimal("15119.50")
    assert found.total_assistance == Decimal("12000.00")
    assert found.serious_illness is True
    assert found.insured[0].personal_premium == 0
    assert found.insured[0].claims[0].out_of_pocket == Decimal("14999.50")


def test_a_household_nobody_of_which_is_insured_has_nothing_to_add_up() -> None:
    found = facts.medical(_medical(["A", "B"], {"A": [], "B": []}), RULES, TODAY)
    assert found.insured == ()
    assert found.uninsured_id_numbers == ("A", "B")
    assert found.total_cost == found.total_out_of_pocket == found.total_assistance == 0
    assert found.serious_illness is False


LINE = RULES.expenditure_poverty.serious_illness_out_of_pocket


@pytest.mark.parametrize(
    ("claims", "serious"),
    [
        pytest.param({"A": [_claim("S1", "800.00", "700.00", serious=True)]}, True, id="大病"),
        pytest.param({"A": [_claim("S1", str(LINE + 1), "0")]}, True, id="one-claim-over-the-line"),
        pytest.param(
            {"A": [_claim("S1", str(LINE / 2), "0")], "B": [_claim("S2", "0.01", "0")]},
            False,
            id="members-together-under-the-line",
        ),
        pytest.param(
            {
                "A": [_claim("S1", str(LINE / 2), "0")],
                "B": [_claim("S2", str(LINE / 2 + Decimal("0.01")), "0")],
            },
            True,
            id="members-together-over-the-line",
        ),
        pytest.param({"A": [_claim("S1", str(LINE), "0")]}, False, id="exactly-the-line"),
        pytest.param(
            {"A": [_claim("S1", str(LINE * 3), str(LINE * 2))]},
            False,
            id="large-costs-mostly-reimbursed",
        ),
    ],
)
def test_serious_illness_is_a_大病_claim_or_out_of_pocket_over_the_rules_line(
    claims: dict[str, list[MedicalClaim]], serious: bool
) -> None:
    found = {k: [_record(k, *c)] for k, c in claims.items()}
    assert facts.medical(_medical(["A", "B"], found), RULES, TODAY).serious_illness is serious


def test_a_lower_serious_illness_line_in_the_rules_changes_the_answer() -> None:
    costs = _medical(["A"], {"A": [_record("A", _claim("S1", "2000.00", "0"))]})
    stricter = RULES.model_copy(
        update={
            "expenditure_poverty": RULES.expenditure_poverty.model_copy(
                update={"serious_illness_out_of_pocket": Decimal(1000)}
            )
        }
    )
    assert facts.medical(costs, RULES, TODAY).serious_illness is False
    assert facts.medical(costs, stricter, TODAY).serious_illness is True


def test_out_of_pocket_costs_outside_the_rules_window_do_not_make_a_serious_illness() -> None:
    window = RULES.expenditure_poverty.window_months
    long_ago = AS_OF.date() - timedelta(days=31 * (window + 6))
    old = MedicalClaim(
        "S0", long_ago, MedicalClaimKind.INPATIENT, LINE, Decimal(0), serious_illness=False
    )
    recent = _claim("S1", "1000.00", "0")
    found = facts.medical(_medical(["A"], {"A": [_record("A", old, recent)]}), RULES, TODAY)
    assert found.serious_illness is False


# --- 教育 -------------------------------------------------------------------------------


def _student(
    id_number: str, *aid: EducationAid, difficulty: EducationDifficulty | None = None
) -> StudentRecord:
    return StudentRecord(
        id_number,
        "G" + id_number,
        date(2015, 1, 1),
        SchoolStage.PRIMARY,
        6,
        "上海市黄浦区小东门小学",
        District.HUANGPU,
        date(2021, 9, 1),
        difficulty,
        "2026-2027" if difficulty else None,
        aid,
    )


def _education(keys: Sequence[str], found: Mapping[str, Sequence[StudentRecord]]) -> Part[Any]:
    return part(Source.EDUCATION, keys, found)


def test_education_takes_each_student_once_and_adds_up_cash_aid() -> None:
    grant = EducationAid(
        EducationAidKind.LIVING_SUBSIDY, Decimal("1500.00"), "2026-2027", date(2026, 10, 20)
    )
    visit = EducationAid(EducationAidKind.HOME_TEACHING, None, "2026-2027", date(2026, 9, 1))
    elder = _student("A", grant, grant, difficulty=EducationDifficulty.DIFFICULT)
    younger = _student("B", visit, difficulty=EducationDifficulty.ESPECIALLY_DIFFICULT)
    found = facts.education(
        _education(
            ["P", "A", "B", "A"],
            {"P": [], "A": [elder], "B": [younger], "X": [_student("X")]},
        ),
        RULES,
    )
    assert [s.id_number for s in found.students] == ["A", "B"]
    assert found.aid_total == Decimal("3000.00")
    assert facts.student_aid_total(found.students[0]) == Decimal("3000.00")
    assert facts.student_aid_total(found.students[1]) == 0
    assert found.difficulty is EducationDifficulty.ESPECIALLY_DIFFICULT
    assert found.home_teaching is True
    empty = facts.education(_education(["P"], {"P": []}), RULES)
    assert (empty.students, empty.difficulty, empty.home_teaching) == ((), None, False)
    assert empty.aid_total == 0


@pytest.mark.parametrize(
    ("levels", "most_severe"),
    [
        ((EducationDifficulty.SOMEWHAT_DIFFICULT, None), EducationDifficulty.SOMEWHAT_DIFFICULT),
        (
            (EducationDifficulty.SOMEWHAT_DIFFICULT, EducationDifficulty.DIFFICULT),
            EducationDifficulty.DIFFICULT,
        ),
        ((None, None), None),
    ],
)
def test_the_household_s_difficulty_is_its_most_severe_student_s(
    levels: tuple[EducationDifficulty | None, ...], most_severe: EducationDifficulty | None
) -> None:
    found = {k: [_student(k, difficulty=d)] for k, d in zip("AB", levels, strict=True)}
    assert facts.education(_education(["A", "B"], found), RULES).difficulty is most_severe


# --- 住房 -------------------------------------------------------------------------------

A, B, C, D = "310115198001010012", "310115198202020021", "310151195003030034", UNKNOWN
OTHER = "310104197001010019"


def _dwelling(dwelling_id: str, area: str, *occupants: str, low_rent: bool = False) -> Dwelling:
    return Dwelling(
        dwelling_id=dwelling_id,
        district=District.HONGKOU,
        address="x",
        floor_area=Decimal(area),
        tenure=HousingTenure.PRIVATE_RENTAL,
        occupants=occupants,
        renovations=(),
        low_rent=LowRentHousing(date(2024, 1, 1), Decimal("960.00")) if low_rent else None,
    )


def _housing(keys: Sequence[str], found: Mapping[str, Sequence[Dwelling]]) -> Part[Any]:
    return part(Source.HOUSING, keys, found)


def test_housing_shows_a_shared_dwelling_once_in_member_order() -> None:
    home = _dwelling("FW2", "41.5", A, B, low_rent=True)
    lodging, elsewhere = _dwelling("FW1", "41.5", C), _dwelling("FW9", "41.5", OTHER)
    found = facts.housing(
        _housing([A, B, C, D], {A: [home], B: [home], C: [lodging], D: [], OTHER: [elsewhere]}),
        RULES,
    )
    assert [d.dwelling_id for d in found.dwellings] == ["FW2", "FW1"]
    assert found.dwellings[0].occupants == (A, B)
    assert found.dwellings[0].floor_area == Decimal("41.5")
    assert found.dwellings[0].low_rent is not None
    assert found.dwellings[0].low_rent.monthly_rent_subsidy == Decimal("960.00")
    empty = facts.housing(_housing([D], {D: []}), RULES)
    assert empty.dwellings == ()
    assert empty.floor_area_per_person is None
    assert empty.hardship is False


def test_floor_area_per_person_is_of_the_dwelling_most_members_live_in() -> None:
    # A alone has the large flat; B and C share the small one, where most members live:
    # its area is shared by the two who live there.
    large, small = _dwelling("FW1", "100", A), _dwelling("FW2", "30", B, C)
    found = facts.housing(_housing([A, B, C], {A: [large], B: [small], C: [small]}), RULES)
    assert [d.dwelling_id for d in found.dwellings] == ["FW1", "FW2"]
    assert found.floor_area_per_person == Decimal("15.00")


LINE_M2 = RULES.housing.floor_area_per_person


@pytest.mark.parametrize(
    ("area", "low_rent", "hardship"),
    [
        pytest.param(LINE_M2 * 3 - Decimal("0.03"), False, True, id="just-under-the-line"),
        pytest.param(LINE_M2 * 3 - Decimal("0.03"), True, False, id="under-with-low-rent"),
        pytest.param(LINE_M2 * 3, False, False, id="exactly-the-line"),
        pytest.param(LINE_M2 * 6, False, False, id="well-over-the-line"),
    ],
)
def test_housing_hardship_is_under_the_rules_line_per_person_without_low_rent_housing(
    area: Decimal, low_rent: bool, hardship: bool
) -> None:
    home = _dwelling("FW1", str(area), A, B, C, low_rent=low_rent)
    found = facts.housing(_housing([A, B, C], {A: [home], B: [home], C: [home]}), RULES)
    assert found.floor_area_per_person == (area / 3).quantize(Decimal("0.01"))
    assert found.hardship is hardship


def test_low_rent_housing_on_any_of_the_household_s_dwellings_rules_out_hardship() -> None:
    crowded, lodging = _dwelling("FW1", "20", A, B), _dwelling("FW2", "12", C, low_rent=True)
    found = facts.housing(_housing([A, B, C], {A: [crowded], B: [crowded], C: [lodging]}), RULES)
    assert found.floor_area_per_person is not None
    assert found.floor_area_per_person < LINE_M2
    assert found.hardship is False


# --- 人社 -------------------------------------------------------------------------------


def _employment_record(id_number: str, status: EmploymentStatus) -> EmploymentRecord:
    band = WageBand.BELOW_MINIMUM if status in WORKING else None
    return EmploymentRecord(id_number, status, band, 0, None, None, None, ())


def _employment(keys: Sequence[str], found: Mapping[str, Sequence[EmploymentRecord]]) -> Part[Any]:
    return part(Source.HUMAN_RESOURCES, keys, found)


def _born(age: int, *, days_later: int = 0) -> date:
    """Born so as to be ``age`` on TODAY (turning it today), ``days_later`` born later."""
    return TODAY.replace(year=TODAY.year - age) + timedelta(days=days_later)


def _member(id_number: str, birth: date, ability: WorkAbility) -> records.Member:
    return records.Member(
        id_number=id_number,
        name="张伟",
        sex=Sex.MALE,
        birth_date=birth,
        relation=Relation.HEAD,
        disability_grade=None,
        chronic_illness=False,
        work_ability=ability,
        household_id="H3101150000001",
    )


def _household(*members: records.Member) -> records.Household:
    return records.Household(
        id="H3101150000001",
        district=District.PUDONG,
        street="塘桥街道",
        address="塘桥街道浦东南路12弄3号401室",
        hukou_type=HukouType.URBAN,
        members=members,
        enrollments=(),
        updated_at=AS_OF,
    )


def test_employment_lists_members_once_in_order_and_flags_zero_employment() -> None:
    """Without civil affairs: the candidates are those in the labour force (working or
    registered as seeking work), as human resources knows them."""
    head, spouse = (
        _employment_record(A, E.REGISTERED_UNEMPLOYED),
        _employment_record(B, E.NOT_IN_LABOUR_FORCE),
    )
    found = {B: [spouse], A: [head], UNKNOWN: []}
    section = facts.employment(_employment([A, B, UNKNOWN, A], found), None, RULES, TODAY)
    assert [p.id_number for p in section.members] == [A, B]
    assert [p.status for p in section.members] == [E.REGISTERED_UNEMPLOYED, E.NOT_IN_LABOUR_FORCE]
    assert section.zero_employment
    working = {**found, B: [_employment_record(B, E.FLEXIBLE)]}
    assert not facts.employment(_employment([A, B], working), None, RULES, TODAY).zero_employment
    nobody_seeking = {B: [spouse]}
    assert not facts.employment(
        _employment([A, B], nobody_seeking), None, RULES, TODAY
    ).zero_employment
    retired = {A: [_employment_record(A, E.RETIRED)], B: [spouse]}
    assert not facts.employment(_employment([A, B], retired), None, RULES, TODAY).zero_employment


FROM, TO = RULES.zero_employment.working_age_from, RULES.zero_employment.working_age_to


@pytest.mark.parametrize(
    ("birth", "ability", "status", "zero"),
    [
        pytest.param(_born(40), WorkAbility.FULL, E.REGISTERED_UNEMPLOYED, True, id="registered"),
        pytest.param(_born(40), WorkAbility.PARTIAL, E.REGISTERED_UNEMPLOYED, True, id="partial"),
        pytest.param(_born(40), WorkAbility.FULL, E.NOT_IN_LABOUR_FORCE, False, id="not-seeking"),
        pytest.param(_born(40), WorkAbility.FULL, E.EMPLOYED, False, id="employed"),
        pytest.param(_born(40), WorkAbility.FULL, E.FLEXIBLE, False, id="flexible"),
        pytest.param(_born(40), WorkAbility.NONE, E.REGISTERED_UNEMPLOYED, False, id="unable"),
        pytest.param(_born(FROM), WorkAbility.FULL, E.REGISTERED_UNEMPLOYED, True, id="from-age"),
        pytest.param(
            _born(FROM, days_later=1),
            WorkAbility.FULL,
            E.REGISTERED_UNEMPLOYED,
            False,
            id="younger",
        ),
        pytest.param(
            _born(TO + 1, days_later=1), WorkAbility.FULL, E.REGISTERED_UNEMPLOYED, True, id="to"
        ),
        pytest.param(_born(TO + 1), WorkAbility.FULL, E.REGISTERED_UNEMPLOYED, False, id="older"),
        pytest.param(_born(TO - 3), WorkAbility.FULL, E.RETIRED, False, id="retired-early"),
    ],
)
def test_zero_employment_is_someone_of_working_age_able_and_seeking_work_and_nobody_employed(
    birth: date, ability: WorkAbility, status: EmploymentStatus, zero: bool
) -> None:
    household = _household(_member(A, birth, ability))
    found = _employment([A], {A: [_employment_record(A, status)]})
    assert facts.employment(found, household, RULES, TODAY).zero_employment is zero


def test_a_member_past_working_age_who_works_does_not_end_zero_employment() -> None:
    household = _household(
        _member(A, _born(TO + 5), WorkAbility.FULL), _member(B, _born(30), WorkAbility.FULL)
    )
    found = {A: [_employment_record(A, E.EMPLOYED)], B: [_employment_record(B, E.FLEXIBLE)]}
    assert not facts.employment(_employment([A, B], found), household, RULES, TODAY).zero_employment
    found[B] = [_employment_record(B, E.REGISTERED_UNEMPLOYED)]
    assert facts.employment(_employment([A, B], found), household, RULES, TODAY).zero_employment


def test_one_employed_candidate_is_enough_and_a_member_unknown_to_hr_is_no_candidate() -> None:
    household = _household(
        _member(A, _born(45), WorkAbility.FULL), _member(B, _born(20), WorkAbility.PARTIAL)
    )
    one_works = {A: [_employment_record(A, E.REGISTERED_UNEMPLOYED)]}
    one_works[B] = [_employment_record(B, E.EMPLOYED)]
    assert not facts.employment(
        _employment([A, B], one_works), household, RULES, TODAY
    ).zero_employment
    unknown_to_hr = {A: [_employment_record(A, E.REGISTERED_UNEMPLOYED)], B: []}
    assert facts.employment(
        _employment([A, B], unknown_to_hr), household, RULES, TODAY
    ).zero_employment


def test_a_pupil_at_school_does_not_count_but_a_parent_seeking_work_does() -> None:
    household = _household(
        _member(A, _born(45), WorkAbility.FULL), _member(B, _born(17), WorkAbility.FULL)
    )
    found = {
        A: [_employment_record(A, E.REGISTERED_UNEMPLOYED)],
        B: [_employment_record(B, E.NOT_IN_LABOUR_FORCE)],
    }
    assert facts.employment(_employment([A, B], found), household, RULES, TODAY).zero_employment
    only_pupil = {A: [_employment_record(A, E.RETIRED)], B: found[B]}
    assert not facts.employment(
        _employment([A, B], only_pupil), household, RULES, TODAY
    ).zero_employment


def test_civil_affairs_decides_who_could_work_when_it_is_there() -> None:
    """Human resources says the member is seeking work; civil affairs says they cannot work."""
    found = _employment([A], {A: [_employment_record(A, E.REGISTERED_UNEMPLOYED)]})
    unable = _household(_member(A, _born(40), WorkAbility.NONE))
    assert facts.employment(found, None, RULES, TODAY).zero_employment
    assert not facts.employment(found, unable, RULES, TODAY).zero_employment


def test_a_household_nobody_of_which_could_work_is_not_zero_employment() -> None:
    household = _household(
        _member(A, _born(70), WorkAbility.FULL), _member(B, _born(8), WorkAbility.FULL)
    )
    found = _employment([A, B], {A: [_employment_record(A, E.RETIRED)], B: []})
    assert not facts.employment(found, household, RULES, TODAY).zero_employment


# --- 应急管理 ---------------------------------------------------------------------------

Damage = DisasterDamageLevel
Stage = DisasterReliefStage


def _disaster(keys: Sequence[str], found: Mapping[str, Sequence[DisasterRecord]]) -> Part[Any]:
    return part(Source.EMERGENCY_MANAGEMENT, keys, found)


def test_disaster_lists_each_household_event_once_newest_first() -> None:
    event = DisasterEvent("E1", DisasterType.FLOOD, "洪涝", date(2024, 6, 21), (District.QINGPU,))
    later = DisasterEvent("E2", DisasterType.FIRE, "火灾", date(2025, 3, 2), (District.QINGPU,))
    flood = DisasterRecord(
        event,
        HEAD,
        (HEAD, SPOUSE),
        District.QINGPU,
        Damage.MINOR,
        (ReliefPayment(Stage.EMERGENCY, Decimal(500), date(2024, 6, 23)),),
    )
    fire = DisasterRecord(
        later,
        HEAD,
        (HEAD, SPOUSE),
        District.QINGPU,
        Damage.SEVERE,
        (
            ReliefPayment(Stage.EMERGENCY, Decimal(3000), date(2025, 3, 4)),
            ReliefPayment(Stage.TRANSITIONAL, Decimal(1500), date(2025, 3, 15)),
        ),
    )
    found = facts.disaster(
        _disaster([HEAD, SPOUSE, CHILD], {HEAD: [flood, fire], SPOUSE: [flood, fire], CHILD: []}),
        RULES,
    )
    assert [i.event.id for i in found.impacts] == ["E2", "E1"]
    assert found.total_relief == Decimal(5000)
    assert found.last_disaster_on == date(2025, 3, 2)
    assert [p.stage for p in found.impacts[0].relief] == [Stage.EMERGENCY, Stage.TRANSITIONAL]
    empty = facts.disaster(_disaster([CHILD], {CHILD: []}), RULES)
    assert empty.impacts == ()
    assert empty.total_relief == 0
    assert empty.last_disaster_on is None


def test_events_of_the_same_day_keep_a_stable_order() -> None:
    day = date(2025, 7, 1)

    def hit(event_id: str, amount: int) -> DisasterRecord:
        event = DisasterEvent(event_id, DisasterType.RAINSTORM, "暴雨", day, (District.PUDONG,))
        relief = (ReliefPayment(Stage.EMERGENCY, Decimal(amount), day),)
        return DisasterRecord(event, HEAD, (HEAD,), District.PUDONG, Damage.MINOR, relief)

    found = facts.disaster(_disaster([HEAD], {HEAD: [hit("E1", 100), hit("E3", 300)]}), RULES)
    again = facts.disaster(_disaster([HEAD], {HEAD: [hit("E3", 300), hit("E1", 100)]}), RULES)
    assert [i.event.id for i in found.impacts] == [i.event.id for i in again.impacts]
    assert [i.event.id for i in found.impacts] == ["E3", "E1"]
    assert found.total_relief == Decimal(400)


# --- 慈善 -------------------------------------------------------------------------------


def _charity(keys: Sequence[str], found: Mapping[str, Sequence[CharityAid]]) -> Part[Any]:
    return part(Source.CHARITY, keys, found)


def test_charity_lists_household_aid_once_newest_first() -> None:
    household = CharityAid(
        "ca1",
        HEAD,
        CharityRecipient.HOUSEHOLD,
        (HEAD, SPOUSE),
        "scf",
        "上海市慈善基金会",
        "scf_ltx",
        "蓝天下的至爱",
        CharityAidKind.CASH,
        Decimal("800.00"),
        date(2025, 1, 20),
    )
    personal = CharityAid(
        "ca2",
        SPOUSE,
        CharityRecipient.PERSON,
        (),
        "scf",
        "上海市慈善基金会",
        "scf_axjh",
        "安心计划",
        CharityAidKind.MEDICAL,
        Decimal("5200.50"),
        date(2025, 6, 3),
    )
    found = facts.charity(
        _charity([HEAD, SPOUSE], {HEAD: [household], SPOUSE: [household, personal]}), RULES
    )
    assert [(a.id, a.beneficiary_id_number) for a in found.aid] == [
        ("ca2", SPOUSE),
        ("ca1", HEAD),
    ]
    assert found.total_amount == Decimal("6000.50")
    assert found.last_given_on == date(2025, 6, 3)
    empty = facts.charity(_charity([HEAD], {}), RULES)
    assert empty.aid == ()
    assert empty.total_amount == 0
    assert empty.last_given_on is None


# --- every result -----------------------------------------------------------------------

JUDGES: dict[str, Callable[[Rules], Any]] = {
    "medical": lambda r: facts.medical(_medical([A], {A: []}), r, TODAY),
    "education": lambda r: facts.education(_education([A], {A: []}), r),
    "housing": lambda r: facts.housing(_housing([A], {A: []}), r),
    "employment": lambda r: facts.employment(_employment([A], {A: []}), None, r, TODAY),
    "employment-with-civil-affairs": lambda r: facts.employment(
        _employment([A], {A: []}), _household(_member(A, _born(30), WorkAbility.FULL)), r, TODAY
    ),
    "disaster": lambda r: facts.disaster(_disaster([A], {A: []}), r),
    "charity": lambda r: facts.charity(_charity([A], {A: []}), r),
}


@pytest.mark.parametrize("judge", list(JUDGES.values()), ids=list(JUDGES))
def test_every_result_carries_the_version_of_the_rules_that_judged_it(
    judge: Callable[[Rules], Any],
) -> None:
    assert judge(RULES).rules_version == RULES.version
    other = RULES.model_copy(update={"version": "test-rules-9"})
    assert judge(other).rules_version == "test-rules-9"
