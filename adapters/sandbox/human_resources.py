"""The human resources and social security (人社) stand-in: employment, insurance, pensions.

Its contract is the bureau's own: PascalCase field names, numeric code tables
(employment status ``11`` employed, ``12`` flexible, ``21`` registered unemployed, ``31``
not in the labour force, ``41`` retired; wage bands ``1``-``4``; services ``1`` training,
``2`` job referral, ``3`` public-welfare post), amounts in yuan as JSON numbers written
with two decimals, dates as ``yyyy-MM-dd``.

Everyone aged 16 or over has a record; children under 16 have none. What it says follows
civil affairs: men from 60 and women from 55 are mostly retired on a pension (a small
rural one for rural hukou); people unable to work are outside the labour force; able
members of 低保 households with unstable income are often unemployed or in flexible work;
some households have nobody in work at all (零就业家庭). Whoever works has a day their
current work began (for a public-welfare post, the day of the post): mostly years ago,
for some within the last six months. In about half of the active 低保 households with
someone in work, one of them has just found the job that lifts the household over the
standard (救助渐退), and civil affairs' assessed income says so
(``adapters.sandbox.population``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.human_resources import (
    EmploymentRecord,
    EmploymentService,
    EmploymentServiceKind,
    EmploymentStatus,
    WageBand,
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
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, HukouType, Sex, WorkAbility

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

STATUS_CODES = {
    EmploymentStatus.EMPLOYED: 11,
    EmploymentStatus.FLEXIBLE: 12,
    EmploymentStatus.REGISTERED_UNEMPLOYED: 21,
    EmploymentStatus.NOT_IN_LABOUR_FORCE: 31,
    EmploymentStatus.RETIRED: 41,
}
WAGE_BAND_CODES = {
    WageBand.BELOW_MINIMUM: 1,
    WageBand.MINIMUM_TO_1_5X: 2,
    WageBand.FROM_1_5X_TO_2X: 3,
    WageBand.ABOVE_2X: 4,
}
SERVICE_CODES = {
    EmploymentServiceKind.VOCATIONAL_TRAINING: 1,
    EmploymentServiceKind.JOB_REFERRAL: 2,
    EmploymentServiceKind.PUBLIC_WELFARE_POST: 3,
}
MAX_BATCH = 500
MIN_AGE = 16
ZERO_EMPLOYMENT_SHARE = 0.25  # of households with a member of working age able to work

E = EmploymentStatus
_WORKING = (E.EMPLOYED, E.FLEXIBLE)
_POST = EmploymentServiceKind.PUBLIC_WELFARE_POST


def retirement_age(sex: Sex) -> int:
    return 60 if sex is Sex.MALE else 55


# Whoever works began their current work within the last six months (recent: 7 to 175
# days before AS_OF) or long before (at least LONG_STANDING_DAYS before it).
RECENT_DAYS = (7, 175)
LONG_STANDING_DAYS = 213
RECENT_SHARE = 0.1
# The share of active 低保 households with someone in work whose new job lifts them over
# the standard: households leaving 低保 through work (救助渐退).
LEAVING_SHARE = 0.5
LONGEST_SERVICE_YEARS = 20


@dataclass(frozen=True, slots=True)
class HouseholdWork:
    """What the bureau holds about one household's members (those aged 16 or over).

    ``leaving`` is the ID number of the member whose recent job lifts the household over
    the 低保 standard (救助渐退), or None; civil affairs' assessed income follows it.
    """

    records: tuple[EmploymentRecord, ...]
    leaving: str | None


def build_records(population: Population) -> dict[str, EmploymentRecord]:
    """A record per person aged 16 or over, keyed by ID number."""
    result: dict[str, EmploymentRecord] = {}
    for household in population.households:
        for record in household_work(population.seed, household).records:
            result[record.id_number] = record
    return result


def household_work(seed: int, household: Household) -> HouseholdWork:
    """The bureau's records about the household's members, and who is leaving 低保 by work.

    Drawn from the household's members, hukou and enrollments alone, which the synthetic
    population settles before it asks (it draws the assessed earnings from this).
    The records are drawn from ``rng_for(seed, "human_resources", household_id)``, the
    day work began and who is leaving from a stream of its own (``"employed_since"``).
    """
    records = _household(rng_for(seed, "human_resources", household.id), household)
    return _employed_since(rng_for(seed, "employed_since", household.id), household, records)


def _earliest_start(m: Member, r: EmploymentRecord) -> date:
    """The earliest day the current work can have begun: at 16, within the longest service,
    and for the employed within the months their contributions cover (paid monthly up to
    the last posted month)."""
    earliest = max(
        anniversary(m.birth_date, MIN_AGE),
        anniversary(AS_OF, -LONGEST_SERVICE_YEARS),
    )
    if r.status is E.EMPLOYED:
        earliest = max(earliest, _months_before(LAST_POSTED, r.contribution_months - 1))
    return earliest


def _employed_since(
    rng: random.Random, household: Household, records: list[EmploymentRecord]
) -> HouseholdWork:
    members = {m.id_number: m for m in household.members}
    latest_long = AS_OF - timedelta(days=LONG_STANDING_DAYS)
    since: dict[str, date] = {}
    free: list[str] = []  # whose day is drawn, not that of a public-welfare post
    for r in records:
        if r.status not in _WORKING:
            continue
        recent = AS_OF - timedelta(days=rng.randint(*RECENT_DAYS))
        earliest = _earliest_start(members[r.id_number], r)
        long_standing = _day_between(rng, earliest, latest_long)
        roll = rng.random()
        post = [s.provided_on for s in r.services if s.kind is _POST]
        if post:
            since[r.id_number] = post[-1]  # the post is the job
            continue
        free.append(r.id_number)
        is_recent = earliest > latest_long or roll < RECENT_SHARE
        since[r.id_number] = recent if is_recent else long_standing
    main = household.enrollments[0]
    roll = rng.random()
    leaving = rng.choice(free) if free else None
    recent = AS_OF - timedelta(days=rng.randint(*RECENT_DAYS))
    if (
        leaving is None
        or main.category is not AssistanceCategory.MINIMUM_LIVING
        or main.status is not EnrollmentStatus.ACTIVE
        or roll >= LEAVING_SHARE
    ):
        leaving = None
    elif since[leaving] < AS_OF - timedelta(days=RECENT_DAYS[1]):
        since[leaving] = recent
    return HouseholdWork(
        tuple(replace(r, employed_since=since.get(r.id_number)) for r in records), leaving
    )


def _household(rng: random.Random, household: Household) -> list[EmploymentRecord]:
    active = {e.category for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}
    unstable = any(
        e.category is AssistanceCategory.MINIMUM_LIVING and not e.income_stable
        for e in household.enrollments
    )
    able = [
        m for m in household.members if _working_age(m) and m.work_ability is not WorkAbility.NONE
    ]
    zero = bool(able) and rng.random() < ZERO_EMPLOYMENT_SHARE
    poor = bool(active & {AssistanceCategory.MINIMUM_LIVING, AssistanceCategory.EXTREME_HARDSHIP})
    records = []
    for member in household.members:
        if age_on(member.birth_date, AS_OF) < MIN_AGE:
            continue
        status = _status(rng, member, unstable=unstable)
        if zero and status in _WORKING:
            status = E.REGISTERED_UNEMPLOYED if _working_age(member) else E.NOT_IN_LABOUR_FORCE
        rural = household.hukou_type is HukouType.RURAL
        records.append(_record(rng, member, status, poor=poor, rural=rural))
    return records


def _working_age(m: Member) -> bool:
    return MIN_AGE <= age_on(m.birth_date, AS_OF) < retirement_age(m.sex)


def _pick(rng: random.Random, weights: dict[EmploymentStatus, int]) -> EmploymentStatus:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _status(rng: random.Random, m: Member, *, unstable: bool) -> EmploymentStatus:
    age = age_on(m.birth_date, AS_OF)
    if age >= retirement_age(m.sex):
        if rng.random() < 0.88:
            return E.RETIRED
        return E.FLEXIBLE if m.work_ability is not WorkAbility.NONE else E.NOT_IN_LABOUR_FORCE
    if m.work_ability is WorkAbility.NONE or (age < 18 and rng.random() < 0.9):
        return E.NOT_IN_LABOUR_FORCE  # unable to work, or still at school
    if m.work_ability is WorkAbility.PARTIAL:
        return _pick(
            rng,
            {
                E.EMPLOYED: 15,
                E.FLEXIBLE: 30,
                E.REGISTERED_UNEMPLOYED: 15,
                E.NOT_IN_LABOUR_FORCE: 40,
            },
        )
    if unstable:
        return _pick(
            rng,
            {E.EMPLOYED: 20, E.FLEXIBLE: 35, E.REGISTERED_UNEMPLOYED: 40, E.NOT_IN_LABOUR_FORCE: 5},
        )
    return _pick(
        rng,
        {E.EMPLOYED: 55, E.FLEXIBLE: 20, E.REGISTERED_UNEMPLOYED: 15, E.NOT_IN_LABOUR_FORCE: 10},
    )


def _months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


# Contributions are posted a month behind: the latest paid month is the one before AS_OF's.
LAST_POSTED = _months_before(AS_OF, 1)


def anniversary(born: date, years: int) -> date:
    """The day ``years`` after ``born`` (1 March for 29 February in other years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February
        return date(born.year + years, 3, 1)


def _service(kind: EmploymentServiceKind, day: date) -> EmploymentService:
    return EmploymentService(kind=kind, provided_on=day)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _record(
    rng: random.Random, m: Member, status: EmploymentStatus, *, poor: bool, rural: bool
) -> EmploymentRecord:
    age = age_on(m.birth_date, AS_OF)
    possible = (age - MIN_AGE) * 12 + 1  # months since the earliest legal first job
    band: WageBand | None = None
    pension: Decimal | None = None
    registered: date | None = None
    services: list[EmploymentService] = []
    months, last = 0, None
    if status is E.RETIRED:
        retired_on = anniversary(m.birth_date, retirement_age(m.sex))
        months = rng.randint(180, max(180, (retirement_age(m.sex) - 18) * 12))
        last = _months_before(retired_on, 1)
        # Rural residents mostly draw the small 城乡居民 pension, urban retirees the 职工 one.
        cents = rng.randint(140000, 220000) if rural else rng.randint(280000, 620000)
        pension = Decimal(cents) / 100
    elif status is E.EMPLOYED:
        # Public-welfare posts (公益性岗位) are how many 低保 households find work.
        public_post = poor and rng.random() < 0.3
        weights = (30, 50, 15, 5) if poor else (10, 40, 35, 15)
        band = rng.choices(list(WageBand), weights=weights)[0]
        months, last = rng.randint(min(possible, 6), possible), LAST_POSTED
        if public_post:
            band = WageBand.MINIMUM_TO_1_5X
            services.append(
                _service(
                    EmploymentServiceKind.PUBLIC_WELFARE_POST,
                    AS_OF - timedelta(days=rng.randint(30, 1000)),
                )
            )
    elif status is E.FLEXIBLE:
        band = rng.choices(list(WageBand), weights=(50, 35, 12, 3))[0]
        months = rng.randint(0, possible * 6 // 10)
        # Flexible workers pay their own contributions, and often lapse.
        last = _months_before(LAST_POSTED, rng.randint(0, 24)) if months else None
        if rng.random() < 0.2:
            services.append(
                _service(
                    EmploymentServiceKind.VOCATIONAL_TRAINING,
                    AS_OF - timedelta(days=rng.randint(10, 1000)),
                )
            )
    elif status is E.REGISTERED_UNEMPLOYED:
        registered = AS_OF - timedelta(days=rng.randint(15, 1000))
        months = rng.randint(0, possible * 7 // 10)
        last = _months_before(registered, rng.randint(1, 6)) if months else None
        if rng.random() < 0.6:
            services.append(
                _service(EmploymentServiceKind.JOB_REFERRAL, _day_between(rng, registered, AS_OF))
            )
        if rng.random() < 0.35:
            services.append(
                _service(
                    EmploymentServiceKind.VOCATIONAL_TRAINING, _day_between(rng, registered, AS_OF)
                )
            )
    elif age >= 25 and rng.random() < 0.3:  # out of the labour force after some years of work
        months = rng.randint(12, max(12, possible // 2))
        last = _months_before(LAST_POSTED, rng.randint(24, 120))
    return EmploymentRecord(
        id_number=m.id_number,
        status=status,
        wage_band=band,
        contribution_months=months,
        last_contribution_month=last if months else None,
        monthly_pension=pension,
        unemployment_registered_on=registered,
        services=tuple(sorted(services, key=lambda s: s.provided_on)),
    )


def _wire_date(day: date | None) -> str | None:
    return day.strftime("%Y-%m-%d") if day else None


def record_json(r: EmploymentRecord) -> dict[str, Any]:
    return {
        "IdCardNo": r.id_number,
        "EmploymentStatusCode": STATUS_CODES[r.status],
        "WageBandCode": WAGE_BAND_CODES[r.wage_band] if r.wage_band else None,
        "ContributionMonths": r.contribution_months,
        "LastContributionMonth": _wire_date(r.last_contribution_month),
        "MonthlyPension": r.monthly_pension,
        "UnemploymentRegDate": _wire_date(r.unemployment_registered_on),
        "EmployedSince": _wire_date(r.employed_since),
        "Services": [
            {"ServiceTypeCode": SERVICE_CODES[s.kind], "ServiceDate": _wire_date(s.provided_on)}
            for s in r.services
        ],
    }


def _dumps(value: Any) -> str:
    """JSON with every Decimal written as a number with two decimals, as the bureau does."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class _BureauJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content).encode("utf-8")


def _scenario_entries(scenario: Scenario) -> dict[str, dict[str, Any]]:
    records = (r for entry in scenario.households for r in entry.human_resources)
    return {r.id_number: record_json(r) for r in records}


def _routes(records: KeyedStore[dict[str, Any]]) -> list[BaseRoute]:
    async def person_query(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("IdCardNos") if isinstance(body, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) > MAX_BATCH
            or not all(isinstance(i, str) for i in ids)
        ):
            return error(400, "BAD_REQUEST", f"IdCardNos must be at most {MAX_BATCH} strings")
        found = [r for i in dict.fromkeys(ids) if (r := records.get(i)) is not None]
        return _BureauJSONResponse({"Result": found, "Total": len(found)})

    return [
        Route("/rs/api/PersonQuery", person_query, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    base = {key: record_json(r) for key, r in build_records(population).items()}
    return keyed_stand_in(population, base, _scenario_entries, _routes)


OPENAPI = load_openapi("human_resources")
