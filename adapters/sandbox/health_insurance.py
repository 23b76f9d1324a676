"""The health-insurance (医保) stand-in: insured persons, premiums, claims, medical assistance.

Its contract is its own: snake_case JSON, the national 医保 code tables (险种 ``insutype``
``310`` employee / ``390`` urban-rural resident; 医疗类别 ``med_type`` ``11`` outpatient,
``14`` chronic or special-disease outpatient, ``21`` inpatient), medical-assistance kinds
``MZJZ``/``ZYJZ``/``DBJZ``, every amount an integer in fen (分), ISO dates.

The data is derived from the civil-affairs population: nearly everyone is insured; minors
and assistance recipients are mostly urban-rural residents, whose premium is paid in
full (低保, 特困, severe disability) or in half (低收入) through 资助参保; the chronically
ill, the disabled and the elderly claim more and dearer; every 支出型贫困 household has a
member with heavy serious-illness costs; medical assistance pays part of what recipients
owe themselves, from the date they became recipients.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.health_insurance import (
    MedicalAssistanceKind,
    MedicalAssistancePayment,
    MedicalClaim,
    MedicalClaimKind,
    MedicalRecord,
    MedicalScheme,
)
from adapters.records import Household, Member, age_on
from adapters.sandbox.population import AS_OF, Population, rng_for
from adapters.sandbox.service import (
    StandInApp,
    error,
    health_route,
    keyed_stand_in,
    load_openapi,
    openapi_route,
    read_json_body,
)
from adapters.sandbox.store import KeyedStore
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, WorkAbility

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

SCHEME_CODES = {MedicalScheme.EMPLOYEE: "310", MedicalScheme.RESIDENT: "390"}
CLAIM_KIND_CODES = {
    MedicalClaimKind.OUTPATIENT: "11",
    MedicalClaimKind.CHRONIC_OUTPATIENT: "14",
    MedicalClaimKind.INPATIENT: "21",
}
ASSISTANCE_KIND_CODES = {
    MedicalAssistanceKind.OUTPATIENT: "MZJZ",
    MedicalAssistanceKind.INPATIENT: "ZYJZ",
    MedicalAssistanceKind.SERIOUS_ILLNESS: "DBJZ",
}

MAX_BATCH = 500
# Claims cover the 24 months up to and including AS_OF.
CLAIMS_FROM = AS_OF.replace(year=AS_OF.year - 2) + timedelta(days=1)
# Illustrative yearly resident contributions in fen, by age band (not published figures).
RESIDENT_PREMIUM_FEN = ((70, 45000), (60, 60000), (19, 88000), (0, 22000))
# Categories whose recipients get medical assistance, with the share (‰) of their own
# part it pays; the best category a person holds on a claim's date applies.
ASSISTANCE_SHARE = {
    AssistanceCategory.EXTREME_HARDSHIP: (900, 1000),
    AssistanceCategory.MINIMUM_LIVING: (700, 900),
    AssistanceCategory.LOW_INCOME: (500, 700),
    AssistanceCategory.EXPENDITURE_POVERTY: (500, 700),
}
# The employee's own contribution: 2 % of a monthly base of at least 7460 yuan (illustrative).
MINIMUM_BASE_FEN = 746_000
EMPLOYEE_SHARE = 2
FULL_SUBSIDY = frozenset((AssistanceCategory.MINIMUM_LIVING, AssistanceCategory.EXTREME_HARDSHIP))


def _held(household: Household) -> set[AssistanceCategory]:
    """Categories the household is actively enrolled in now."""
    return {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}


def _held_on(household: Household, day: date) -> set[AssistanceCategory]:
    """Categories the household held on ``day``: enrolled by then and not since ended."""
    return {
        e.category
        for e in household.enrollments
        if e.status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED) and e.since <= day
    }


def _scheme(rng: random.Random, member: Member, household: Household) -> MedicalScheme:
    age = age_on(member.birth_date, AS_OF)
    if age < 18 or (_held(household) & FULL_SUBSIDY and rng.random() < 0.9):
        return MedicalScheme.RESIDENT
    stable = any(e.income_stable for e in household.enrollments)
    if age >= 60:
        chance = 0.35  # retired employees stay in the employee scheme
    elif member.work_ability is WorkAbility.FULL:
        chance = (0.3 if age <= 22 else 0.65) if stable else 0.4
    elif member.work_ability is WorkAbility.PARTIAL:
        chance = 0.15
    else:
        chance = 0.05
    return MedicalScheme.EMPLOYEE if rng.random() < chance else MedicalScheme.RESIDENT


def _premium_fen(rng: random.Random, member: Member, scheme: MedicalScheme) -> int:
    age = age_on(member.birth_date, AS_OF)
    if scheme is MedicalScheme.EMPLOYEE:
        if age >= 60:
            return 0  # retirees pay no contribution
        monthly_base_fen = rng.randint(MINIMUM_BASE_FEN, 1_200_000)
        return monthly_base_fen * 12 * EMPLOYEE_SHARE // 100
    return next(fen for floor, fen in RESIDENT_PREMIUM_FEN if age >= floor)


def subsidy_fen(member: Member, household: Household, scheme: MedicalScheme, fen: int) -> int:
    """The part of a premium of ``fen`` paid for the member (资助参保), in fen."""
    if scheme is MedicalScheme.EMPLOYEE:
        return 0
    held = _held(household)
    if held & FULL_SUBSIDY or member.disability_grade in (1, 2):
        return fen
    if AssistanceCategory.LOW_INCOME in held:
        return fen // 2
    return 0


def _day(rng: random.Random, start: date) -> date:
    return start + timedelta(days=rng.randint(0, (AS_OF - start).days))


def _claims(
    rng: random.Random, member: Member, start: date, *, patient: bool
) -> Iterator[tuple[date, MedicalClaimKind, int, bool]]:
    """(date, kind, total fen, serious illness) of the claims in [start, AS_OF]."""
    age = age_on(member.birth_date, AS_OF)
    elderly, chronic = age >= 60, member.chronic_illness
    disabled = member.disability_grade is not None
    visits = (3 if elderly else 2 if age < 6 else 1) + 4 * chronic + 1.5 * disabled
    if not (elderly or chronic or disabled) and rng.random() < 0.35:
        visits = 0
    for _ in range(round(visits * 2 * rng.uniform(0.3, 1.5))):
        yield _day(rng, start), MedicalClaimKind.OUTPATIENT, rng.randint(8_000, 80_000), False
    if chronic or patient:
        serious = patient or rng.random() < 0.1  # dialysis, cancer treatment: 门诊大病
        for _ in range(rng.randint(6, 20)):
            total = rng.randint(300_000, 1_500_000) if serious else rng.randint(20_000, 150_000)
            yield _day(rng, start), MedicalClaimKind.CHRONIC_OUTPATIENT, total, serious
    stays = 0.05 + 0.2 * elderly + 0.2 * chronic + 0.1 * disabled
    count = rng.randint(2, 4) if patient else rng.randint(1, 3) if rng.random() < stays else 0
    for i in range(count):
        serious = (patient and i == 0) or rng.random() < (0.25 if chronic else 0.1)
        total = rng.randint(4_000_000, 25_000_000) if serious else rng.randint(500_000, 6_000_000)
        yield _day(rng, start), MedicalClaimKind.INPATIENT, total, serious


def _reimbursed(
    rng: random.Random, scheme: MedicalScheme, kind: MedicalClaimKind, serious: bool, total: int
) -> int:
    employee = scheme is MedicalScheme.EMPLOYEE
    if kind is MedicalClaimKind.OUTPATIENT:
        low, high = (700, 850) if employee else (500, 650)
    elif kind is MedicalClaimKind.CHRONIC_OUTPATIENT:
        low, high = (750, 900) if employee else (600, 800)
    else:
        low, high = (750, 900) if employee else (600, 750)
    if serious and not employee:
        low, high = low + 50, high + 50  # 大病保险 tops up the resident scheme
    return total * rng.randint(low, high) // 1000


def _assistance(
    rng: random.Random, household: Household, claim: MedicalClaim
) -> MedicalAssistancePayment | None:
    held = [c for c in _held_on(household, claim.settled_on) if c in ASSISTANCE_SHARE]
    if not held:
        return None
    best = max(held, key=lambda c: ASSISTANCE_SHARE[c])
    if claim.kind is MedicalClaimKind.OUTPATIENT and (
        best not in FULL_SUBSIDY or rng.random() < 0.4
    ):
        return None
    own_fen = int(claim.out_of_pocket.scaleb(2))
    amount = own_fen * rng.randint(*ASSISTANCE_SHARE[best]) // 1000
    if amount == 0:
        return None
    if claim.serious_illness:
        kind = MedicalAssistanceKind.SERIOUS_ILLNESS
    elif claim.kind is MedicalClaimKind.INPATIENT:
        kind = MedicalAssistanceKind.INPATIENT
    else:
        kind = MedicalAssistanceKind.OUTPATIENT
    # Most is settled at the counter with the claim (一站式结算); some is applied for after.
    paid = claim.settled_on
    if rng.random() < 0.15:
        paid = min(AS_OF, paid + timedelta(days=rng.randint(20, 90)))
    return MedicalAssistancePayment(paid, kind, _yuan(amount), claim.settlement_id)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _patient(household: Household) -> Member | None:
    """The member whose illness made an active 支出型贫困 household poor, if it is one."""
    if AssistanceCategory.EXPENDITURE_POVERTY not in _held(household):
        return None
    ill = [m for m in household.members if m.chronic_illness]
    disabled = [m for m in household.members if m.disability_grade is not None]
    return (ill or disabled or [household.head])[0]


def _record(seed: int, household: Household, member: Member, patient: bool) -> MedicalRecord | None:
    rng = rng_for(seed, "health_insurance", member.id_number)
    recipient = bool(_held(household) & FULL_SUBSIDY)
    if not (recipient or patient or member.disability_grade in (1, 2)) and rng.random() < 0.03:
        return None  # not insured in Shanghai (insured elsewhere, or never enrolled)
    scheme = _scheme(rng, member, household)
    premium = _premium_fen(rng, member, scheme)
    since = AS_OF - timedelta(
        days=rng.randint(400, 7300) if rng.random() < 0.9 else rng.randint(30, 399)
    )
    if patient:
        since = min(since, CLAIMS_FROM)
    # Babies are enrolled within weeks of birth; employees from their first job at 18.
    earliest = timedelta(
        days=rng.randint(0, 60) + (6580 if scheme is MedicalScheme.EMPLOYEE else 0)
    )
    since = min(AS_OF, max(since, member.birth_date + earliest))
    start = max(CLAIMS_FROM, since)
    drafts = sorted(_claims(rng, member, start, patient=patient), key=lambda d: d[0])
    claims = []
    for n, (day, kind, total, serious) in enumerate(drafts, 1):
        reimbursed = _reimbursed(rng, scheme, kind, serious, total)
        settlement = f"JS{day:%Y%m%d}{member.id_number[-6:]}{n:03d}"
        claims.append(MedicalClaim(settlement, day, kind, _yuan(total), _yuan(reimbursed), serious))
    payments = [p for c in claims if (p := _assistance(rng, household, c)) is not None]
    return MedicalRecord(
        id_number=member.id_number,
        scheme=scheme,
        insured_since=since,
        premium_year=AS_OF.year,
        annual_premium=_yuan(premium),
        subsidised_premium=_yuan(subsidy_fen(member, household, scheme, premium)),
        claims=tuple(claims),
        assistance=tuple(sorted(payments, key=lambda p: p.paid_on)),
    )


def insured_persons(population: Population) -> dict[str, MedicalRecord]:
    """Every insured person of the population, by ID number, as the hub should read them."""
    result = {}
    for household in population.households:
        patient = _patient(household)
        for member in household.members:
            record = _record(population.seed, household, member, member is patient)
            if record is not None:
                result[member.id_number] = record
    return result


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def insured_json(r: MedicalRecord) -> dict[str, Any]:
    return {
        "id_card_no": r.id_number,
        "insutype": SCHEME_CODES[r.scheme],
        "insured_since": r.insured_since.isoformat(),
        "premium_year": r.premium_year,
        "annual_premium": _fen(r.annual_premium),
        "premium_subsidy": _fen(r.subsidised_premium),
        "claims": [
            {
                "setl_id": c.settlement_id,
                "settled_on": c.settled_on.isoformat(),
                "med_type": CLAIM_KIND_CODES[c.kind],
                "total_cost": _fen(c.total_cost),
                "fund_paid": _fen(c.reimbursed),
                "self_paid": _fen(c.out_of_pocket),
                "serious_illness": c.serious_illness,
            }
            for c in r.claims
        ],
        "medical_assistance": [
            {
                "paid_on": p.paid_on.isoformat(),
                "kind": ASSISTANCE_KIND_CODES[p.kind],
                "amount": _fen(p.amount),
                "setl_id": p.settlement_id,
            }
            for p in r.assistance
        ],
    }


def _scenario_entries(scenario: Scenario) -> dict[str, dict[str, Any]]:
    records = (r for entry in scenario.households for r in entry.health_insurance)
    return {r.id_number: insured_json(r) for r in records}


def _routes(insured: KeyedStore[dict[str, Any]]) -> list[BaseRoute]:
    async def query(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("id_card_nos") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return error(400, "BAD_REQUEST", "id_card_nos must be a list of strings")
        if len(ids) > MAX_BATCH:
            return error(400, "TOO_MANY", f"at most {MAX_BATCH} id_card_nos per query")
        found = [insured.get(i) for i in dict.fromkeys(ids)]
        return JSONResponse({"insured": [r for r in found if r is not None]})

    return [
        Route("/v2/insured/query", query, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    insured = {key: insured_json(r) for key, r in insured_persons(population).items()}
    return keyed_stand_in(population, insured, _scenario_entries, _routes)


OPENAPI = load_openapi("health_insurance")
