"""The charity (慈善) stand-in: the charity federation's organisations, projects and aid.

Its contract is the federation's own: snake_case JSON; kind codes in pinyin initials
(aid ``xj`` 现金 cash, ``wz`` 物资 goods, ``yl`` 医疗 medical, ``jy`` 教育 education,
``fw`` 服务 service and care; organisations ``jjh`` 基金会, ``dbc`` 代表处 district
office, ``cscs`` 慈善超市); dates as Unix epoch seconds (the day is Shanghai's calendar
day); amounts in yuan as strings with two decimals. Aid is given to a person
(``individual``) or to a household (``household``, recorded against the head's ID number
and carrying ``household_member_ids``).

About a fifth of households get some aid in the two years before ``AS_OF``, far more of
the 特困 and 支出型贫困 ones; education aid goes to school-age children only, medical aid
to the chronically ill and the severely disabled, care to the elderly and the disabled.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.charity import CharityAid, CharityAidKind, CharityRecipient
from adapters.records import Household, Member, age_on
from adapters.sandbox.geography import STREETS
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
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

MAX_BATCH = 500
# Shanghai has kept UTC+8 without daylight saving since 1991.
SHANGHAI = timezone(timedelta(hours=8))
FOUNDATION, BRANCH, SUPERMARKET = "jjh", "dbc", "cscs"
CASH, GOODS, MEDICAL, EDUCATION, SERVICE = "xj", "wz", "yl", "jy", "fw"
INDIVIDUAL, HOUSEHOLD = "individual", "household"
KIND_CODES = {
    CharityAidKind.CASH: CASH,
    CharityAidKind.GOODS: GOODS,
    CharityAidKind.MEDICAL: MEDICAL,
    CharityAidKind.EDUCATION: EDUCATION,
    CharityAidKind.SERVICE: SERVICE,
}
_KINDS = {code: kind for kind, code in KIND_CODES.items()}
RECIPIENT_CODES = {CharityRecipient.PERSON: INDIVIDUAL, CharityRecipient.HOUSEHOLD: HOUSEHOLD}
GIVEN_AT = 10 * 3600  # seconds past midnight of aid whose time of day nobody gave
WINDOW_START = AS_OF - timedelta(days=730)
SCHOOL_AGES = range(6, 19)  # primary school to senior high
ELDERLY_AGE = 60


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str
    district: District | None = None
    street: str | None = None


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    organisation: Organisation
    kind: str


SCF = Organisation("scf", "上海市慈善基金会", FOUNDATION)
SCCF = Organisation("sccf", "上海市儿童基金会", FOUNDATION)
UNITED = Organisation("unitedf", "上海联劝公益基金会", FOUNDATION)
RENDE = Organisation("rende", "上海仁德基金会", FOUNDATION)
BRANCHES = {
    d: Organisation(f"scf_{d.code}", f"上海市慈善基金会{d.name_zh}代表处", BRANCH, d)
    for d in District
}
SUPERMARKETS = {
    (d, street): Organisation(f"cs_{d.code}_{i:02d}", f"{street}慈善超市", SUPERMARKET, d, street)
    for d in District
    for i, street in enumerate(STREETS[d], start=1)
}
ORGANISATIONS = (SCF, *BRANCHES.values(), SCCF, UNITED, RENDE, *SUPERMARKETS.values())

CARE_FOR_ALL = Project("scf_ltx", "蓝天下的至爱·帮困送温暖", SCF, CASH)
PEACE_OF_MIND = Project("scf_axjh", "安心计划·大病帮扶", SCF, MEDICAL)
SCHOOLING = Project("scf_zx", "慈善助学", SCF, EDUCATION)
CHILD_ILLNESS = Project("sccf_dbjz", "儿童大病救助", SCCF, MEDICAL)
CHILD_SCHOOLING = Project("sccf_zx", "困境儿童助学", SCCF, EDUCATION)
ELDER_CARE = Project("unitedf_zl", "联劝·长者关爱", UNITED, SERVICE)
DISABILITY_CARE = Project("rende_zc", "仁德·助残帮扶", RENDE, SERVICE)
DISTRICT_MEDICAL = {
    d: Project(f"{o.id}_zy", f"{d.name_zh}慈善助医", o, MEDICAL) for d, o in BRANCHES.items()
}
SUPERMARKET_GOODS = {
    key: Project(f"{o.id}_wz", f"{o.name}·爱心物资", o, GOODS) for key, o in SUPERMARKETS.items()
}
PROJECTS = (
    CARE_FOR_ALL,
    PEACE_OF_MIND,
    SCHOOLING,
    *DISTRICT_MEDICAL.values(),
    CHILD_ILLNESS,
    CHILD_SCHOOLING,
    ELDER_CARE,
    DISABILITY_CARE,
    *SUPERMARKET_GOODS.values(),
)


@dataclass(frozen=True)
class Aid:
    id: str
    household: Household
    member: Member | None  # None: given to the household
    project: Project
    amount: Decimal
    day: date
    seconds: int  # of the day, Shanghai time


def _aid_chance(household: Household) -> float:
    active = {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}
    if AssistanceCategory.EXPENDITURE_POVERTY in active:
        return 0.55
    if AssistanceCategory.EXTREME_HARDSHIP in active:
        return 0.5
    return 0.16


def _any_day(rng: random.Random) -> date:
    return WINDOW_START + timedelta(days=rng.randint(0, (AS_OF - WINDOW_START).days))


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _schooling_day(rng: random.Random, member: Member) -> date | None:
    """A September grant date within the window on which the member was of school age."""
    days = [date(year, 9, rng.randint(1, 30)) for year in range(WINDOW_START.year, AS_OF.year + 1)]
    fitting = [
        d
        for d in days
        if WINDOW_START <= d <= AS_OF and age_on(member.birth_date, d) in SCHOOL_AGES
    ]
    return rng.choice(fitting) if fitting else None


def _offers(household: Household, zcx: bool) -> list[tuple[int, Project, Member | None]]:
    """Everything the household could be given, weighted: what fits its members only."""
    offers: list[tuple[int, Project, Member | None]] = [
        (4, CARE_FOR_ALL, None),
        (3, SUPERMARKET_GOODS[(household.district, household.street)], None),
    ]
    for m in household.members:
        age = age_on(m.birth_date, AS_OF)
        if m.chronic_illness or m.disability_grade in (1, 2):
            weight = 6 if zcx else 3
            if age < 18:
                offers.append((weight, CHILD_ILLNESS, m))
            else:
                offers.append((weight, PEACE_OF_MIND, m))
                offers.append((weight, DISTRICT_MEDICAL[household.district], m))
        if SCHOOL_AGES.start <= age <= SCHOOL_AGES.stop + 1:
            offers.append((3, SCHOOLING, m))
            offers.append((2, CHILD_SCHOOLING, m))
        if age >= ELDERLY_AGE + 2:  # elderly through the whole window
            offers.append((2, ELDER_CARE, m))
        if m.disability_grade is not None:
            offers.append((2, DISABILITY_CARE, m))
    return offers


def _given(rng: random.Random, project: Project, member: Member | None) -> tuple[date, Decimal]:
    if project is CARE_FOR_ALL:  # the Spring Festival campaign
        day = date(rng.choice((AS_OF.year - 1, AS_OF.year)), 1, 10) + timedelta(rng.randint(0, 31))
        return day, Decimal(rng.choice((500, 800, 1000, 1500, 2000)))
    if project.kind == GOODS:
        return _any_day(rng), _cents(rng, 80, 600)
    if project.kind == MEDICAL:
        return _any_day(rng), Decimal(rng.randint(200, 3000) * 10)
    if project.kind == EDUCATION and member is not None:
        school_day = _schooling_day(rng, member)
        if school_day is None:
            raise LookupError("no school-age September in the window")
        return school_day, Decimal(rng.choice((1000, 2000, 3000, 5000)))
    return _any_day(rng), _cents(rng, 300, 2400)


def household_aid(seed: int, household: Household) -> list[Aid]:
    """The aid the household and its members received, oldest first."""
    rng = rng_for(seed, "charity", household.id)
    if rng.random() >= _aid_chance(household):
        return []
    active = {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}
    offers = _offers(household, AssistanceCategory.EXPENDITURE_POVERTY in active)
    count = rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]
    result: list[Aid] = []
    while offers and len(result) < count:
        _, project, member = offers.pop(
            rng.choices(range(len(offers)), weights=[o[0] for o in offers])[0]
        )
        try:
            day, amount = _given(rng, project, member)
        except LookupError:
            continue
        result.append(
            Aid(
                f"ca{household.id[1:]}{len(result) + 1:02d}",
                household,
                member,
                project,
                amount,
                day,
                rng.randint(8 * 3600, 19 * 3600),
            )
        )
    return sorted(result, key=lambda a: (a.day, a.id))


def epoch(day: date, seconds: int = 0) -> int:
    """Unix seconds of ``seconds`` past midnight of ``day`` in Shanghai."""
    midnight = datetime.combine(day, time(), tzinfo=SHANGHAI)
    return int(midnight.timestamp()) + seconds


def _organisation_json(o: Organisation) -> dict[str, Any]:
    return {
        "org_id": o.id,
        "org_name": o.name,
        "kind_code": o.kind,
        "region_code": o.district.code if o.district else None,
        "street_name": o.street,
    }


def _project_json(p: Project) -> dict[str, Any]:
    return {
        "project_id": p.id,
        "project_name": p.name,
        "org_id": p.organisation.id,
        "kind_code": p.kind,
    }


def aid_record(a: Aid) -> CharityAid:
    """The aid as the hub reads it."""
    members = () if a.member else tuple(m.id_number for m in a.household.members)
    return CharityAid(
        id=a.id,
        beneficiary_id_number=(a.member or a.household.head).id_number,
        recipient=CharityRecipient.PERSON if a.member else CharityRecipient.HOUSEHOLD,
        household_member_ids=members,
        organisation_id=a.project.organisation.id,
        organisation_name=a.project.organisation.name,
        project_id=a.project.id,
        project_name=a.project.name,
        kind=_KINDS[a.project.kind],
        amount=a.amount,
        given_on=a.day,
    )


def aid_json(a: CharityAid, seconds: int = GIVEN_AT) -> dict[str, Any]:
    """The federation's record of ``a``, granted ``seconds`` past midnight."""
    body: dict[str, Any] = {
        "aid_id": a.id,
        "beneficiary_id_no": a.beneficiary_id_number,
        "recipient_type": RECIPIENT_CODES[a.recipient],
        "org_id": a.organisation_id,
        "org_name": a.organisation_name,
        "project_id": a.project_id,
        "project_name": a.project_name,
        "kind_code": KIND_CODES[a.kind],
        "amount": f"{a.amount:.2f}",
        "granted_at": epoch(a.given_on, seconds),
    }
    if a.recipient is CharityRecipient.HOUSEHOLD:
        body["household_member_ids"] = list(a.household_member_ids)
    return body


def _by_person(aid: Iterable[tuple[CharityAid, int]]) -> dict[str, tuple[dict[str, Any], ...]]:
    # Household aid is found through any member's ID number.
    result: dict[str, tuple[dict[str, Any], ...]] = {}
    for record, seconds in aid:
        body = aid_json(record, seconds)
        for person in record.concerns:
            result[person] = (*result.get(person, ()), body)
    return result


def _scenario_entries(scenario: Scenario) -> dict[str, tuple[dict[str, Any], ...]]:
    return _by_person((a, GIVEN_AT) for entry in scenario.households for a in entry.charity)


def _routes(by_person: KeyedStore[tuple[dict[str, Any], ...]]) -> list[BaseRoute]:
    organisations = {"organisations": [_organisation_json(o) for o in ORGANISATIONS]}
    projects = {"projects": [_project_json(p) for p in PROJECTS]}

    async def list_organisations(request: Request) -> JSONResponse:
        return JSONResponse(organisations)

    async def list_projects(request: Request) -> JSONResponse:
        return JSONResponse(projects)

    async def aid_lookup(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("beneficiary_ids") if isinstance(body, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) > MAX_BATCH
            or not all(isinstance(i, str) for i in ids)
        ):
            message = f"beneficiary_ids must be a list of at most {MAX_BATCH} ID numbers"
            return error(400, "bad_request", message)
        found = {a["aid_id"]: a for i in ids for a in by_person.get(i) or ()}
        return JSONResponse({"aid": sorted(found.values(), key=lambda a: a["aid_id"])})

    return [
        Route("/charity/organisations", list_organisations, methods=["GET"]),
        Route("/charity/projects", list_projects, methods=["GET"]),
        Route("/charity/aid/lookup", aid_lookup, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    base = _by_person(
        (aid_record(a), a.seconds)
        for household in population.households
        for a in household_aid(population.seed, household)
    )
    return keyed_stand_in(population, base, _scenario_entries, _routes)


OPENAPI = load_openapi("charity")
