from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from adapters.health_insurance import (
    MedicalAssistanceKind,
    MedicalAssistancePayment,
    MedicalClaim,
    MedicalClaimKind,
    MedicalRecord,
    MedicalScheme,
)
from adapters.records import age_on
from adapters.sandbox.health_insurance import CLAIMS_FROM, FULL_SUBSIDY, insured_persons
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, Source
from tests.adapters.conftest import UNKNOWN, assert_bad_upstream_data, mocked

SOURCE = Source.HEALTH_INSURANCE


@pytest.fixture(scope="module")
def expected(population: Population) -> dict[str, MedicalRecord]:
    return insured_persons(population)


def _wire(**changes: object) -> dict[str, object]:
    claim = {
        "setl_id": "JS1",
        "settled_on": "2026-03-04",
        "med_type": "21",
        "total_cost": 1234567,
        "fund_paid": 1000000,
        "self_paid": 234567,
        "serious_illness": True,
    }
    item = {
        "id_card_no": UNKNOWN,
        "insutype": "390",
        "insured_since": "2019-01-01",
        "premium_year": 2026,
        "annual_premium": 88000,
        "premium_subsidy": 44000,
        "claims": [claim],
        "medical_assistance": [
            {"paid_on": "2026-03-04", "kind": "DBJZ", "amount": 150001, "setl_id": "JS1"}
        ],
    }
    for key, value in changes.items():
        if key in claim:
            claim[key] = value
        else:
            item[key] = value
    return {"insured": [item]}


async def test_fen_become_exact_yuan_and_codes_become_enums():
    result = await mocked(SOURCE, _wire()).fetch([UNKNOWN])
    assert result[UNKNOWN] == [
        MedicalRecord(
            id_number=UNKNOWN,
            scheme=MedicalScheme.RESIDENT,
            insured_since=date(2019, 1, 1),
            premium_year=2026,
            annual_premium=Decimal("880.00"),
            subsidised_premium=Decimal("440.00"),
            claims=(
                MedicalClaim(
                    "JS1",
                    date(2026, 3, 4),
                    MedicalClaimKind.INPATIENT,
                    Decimal("12345.67"),
                    Decimal("10000.00"),
                    True,
                ),
            ),
            assistance=(
                MedicalAssistancePayment(
                    date(2026, 3, 4),
                    MedicalAssistanceKind.SERIOUS_ILLNESS,
                    Decimal("1500.01"),
                    "JS1",
                ),
            ),
        )
    ]
    record = result[UNKNOWN][0]
    amounts = (
        record.annual_premium,
        record.personal_premium,
        record.claims[0].total_cost,
        record.claims[0].out_of_pocket,
        record.assistance[0].amount,
    )
    assert [str(a) for a in amounts] == ["880.00", "440.00", "12345.67", "2345.67", "1500.01"]


@pytest.mark.parametrize(
    "body",
    [
        {"insured": [{"id_card_no": UNKNOWN}]},
        _wire(total_cost=12345.67),  # yuan where fen belong
        _wire(total_cost="1234567"),
        _wire(self_paid=1),  # disagrees with total_cost - fund_paid
        _wire(fund_paid=2000000, self_paid=0),  # reimbursed more than it cost
        _wire(premium_subsidy=90000),  # subsidy above the premium
        _wire(settled_on="20260304"),
    ],
)
async def test_a_malformed_body_is_bad_upstream_data(body: object):
    await assert_bad_upstream_data(SOURCE, body, UNKNOWN)


@pytest.mark.parametrize("change", [{"insutype": "320"}, {"med_type": "99"}])
async def test_an_unknown_code_is_bad_upstream_data(change: dict[str, object]):
    await assert_bad_upstream_data(SOURCE, _wire(**change), UNKNOWN)


def _enrollments(population: Population, id_number: str, *statuses: EnrollmentStatus):
    household = population.by_id[population.by_id_number[id_number].household_id]
    return [e for e in household.enrollments if e.status in statuses]


def _active(population: Population, id_number: str) -> set[AssistanceCategory]:
    return {e.category for e in _enrollments(population, id_number, EnrollmentStatus.ACTIVE)}


def test_records_agree_with_civil_affairs(
    population: Population, expected: dict[str, MedicalRecord]
):
    """Premium subsidy follows the categories civil affairs holds (低保 and 特困 in full,
    低收入 in part, none without assistance or severe disability); claims fall in the window
    and after insurance began, itself after birth; medical assistance goes only to people
    enrolled (active or suspended) in a category other than 临时救助 on the claim's date,
    never above what they owed; every 低保 or 特困 recipient is insured; minors are on the
    resident scheme."""
    for member in population.members():
        held = _active(population, member.id_number)
        record = expected.get(member.id_number)
        if held & FULL_SUBSIDY:
            assert record is not None
            if record.scheme is MedicalScheme.RESIDENT:
                assert record.subsidised_premium == record.annual_premium
        if record is None:
            continue
        if age_on(member.birth_date, AS_OF) < 18:
            assert record.scheme is MedicalScheme.RESIDENT
        severe = member.disability_grade in (1, 2)
        if not held and not severe:
            assert record.subsidised_premium == 0
        partly = not held & FULL_SUBSIDY and AssistanceCategory.LOW_INCOME in held
        if partly and not severe and record.scheme is MedicalScheme.RESIDENT:
            assert 0 < record.subsidised_premium < record.annual_premium
        assert 0 <= record.subsidised_premium <= record.annual_premium
        assert member.birth_date <= record.insured_since <= AS_OF
        for claim in record.claims:
            assert max(CLAIMS_FROM, record.insured_since) <= claim.settled_on <= AS_OF
            assert 0 <= claim.reimbursed <= claim.total_cost
        claims = {c.settlement_id: c for c in record.claims}
        enrolled = _enrollments(
            population, member.id_number, EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED
        )
        for payment in record.assistance:
            assert payment.settlement_id is not None
            claim = claims[payment.settlement_id]
            assert claim.settled_on <= payment.paid_on <= AS_OF
            assert any(
                e.since <= claim.settled_on
                for e in enrolled
                if e.category is not AssistanceCategory.TEMPORARY
            )
        owed = sum(c.out_of_pocket for c in record.claims)
        assert sum(p.amount for p in record.assistance) <= owed


def test_illness_disability_and_poverty_show_in_the_costs(
    population: Population, expected: dict[str, MedicalRecord]
):
    """The chronically ill claim more than others, and every active 支出型贫困 household
    carries heavy costs (over 20,000 yuan of its own in two years) with a serious illness."""
    counts: dict[bool, list[int]] = defaultdict(list)
    for member in population.members():
        if member.id_number in expected:
            counts[member.chronic_illness].append(len(expected[member.id_number].claims))
    assert sum(counts[True]) / len(counts[True]) > 3 * sum(counts[False]) / len(counts[False])
    poor = [
        h
        for h in population.households
        if AssistanceCategory.EXPENDITURE_POVERTY in _active(population, h.head.id_number)
    ]
    assert poor
    for household in poor:
        records = [expected[m.id_number] for m in household.members if m.id_number in expected]
        claims = [c for r in records for c in r.claims]
        assert sum(c.out_of_pocket for c in claims) > 20_000
        assert any(c.serious_illness for c in claims)


def test_nearly_everyone_is_insured_and_recipients_mostly_as_residents(
    population: Population, expected: dict[str, MedicalRecord]
):
    members = list(population.members())
    assert len(expected) >= 0.95 * len(members)
    recipients = [
        expected[m.id_number]
        for m in members
        if AssistanceCategory.MINIMUM_LIVING in _active(population, m.id_number)
    ]
    residents = [r for r in recipients if r.scheme is MedicalScheme.RESIDENT]
    assert len(residents) > 0.8 * len(recipients)
