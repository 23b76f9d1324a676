"""The civil-affairs (民政) stand-in: households, members and assistance enrollments.

Its contract is its own, as a real department's would be: camelCase JSON with the
department's code tables (sex ``1``/``2``, GB/T 4761 relation codes, category codes
``DB``/``TK``/``DSR``/``ZCX``/``LS``), amounts in yuan as strings, ISO dates. Besides the
assessed monthly income (核定收入) a household carries the part of it earned from work, and
a member the severe-disability care subsidy (重残无业人员护理补贴) paid to them. The
``/_sandbox`` routes change the data so that tests can watch the hub follow.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.records import Enrollment, Household, Member
from adapters.sandbox.geography import STREETS
from adapters.sandbox.population import Population
from adapters.sandbox.service import (
    StandInApp,
    error,
    health_route,
    load_openapi,
    openapi_route,
    read_json_body,
)
from adapters.sandbox.store import FeedChanges
from adapters.vocabulary import (
    AssistanceCategory,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    WorkAbility,
)

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

SEX_CODES = {Sex.MALE: "1", Sex.FEMALE: "2"}
RELATION_CODES = {
    Relation.HEAD: "02",
    Relation.SPOUSE: "10",
    Relation.CHILD: "20",
    Relation.GRANDCHILD: "40",
    Relation.PARENT: "50",
    Relation.GRANDPARENT: "60",
    Relation.SIBLING: "70",
    Relation.OTHER: "99",
}
CATEGORY_CODES = {
    AssistanceCategory.MINIMUM_LIVING: "DB",
    AssistanceCategory.EXTREME_HARDSHIP: "TK",
    AssistanceCategory.LOW_INCOME: "DSR",
    AssistanceCategory.EXPENDITURE_POVERTY: "ZCX",
    AssistanceCategory.TEMPORARY: "LS",
}
STATUS_CODES = {
    EnrollmentStatus.ACTIVE: "10",
    EnrollmentStatus.PENDING: "00",
    EnrollmentStatus.SUSPENDED: "20",
    EnrollmentStatus.TERMINATED: "90",
}
WORK_ABILITY_CODES = {WorkAbility.FULL: "1", WorkAbility.PARTIAL: "2", WorkAbility.NONE: "3"}
HUKOU_CODES = {HukouType.URBAN: "1", HukouType.RURAL: "2"}

MAX_BATCH = 500
MAX_PAGE = 1000


def member_json(m: Member) -> dict[str, Any]:
    return {
        "idNumber": m.id_number,
        "name": m.name,
        "sexCode": SEX_CODES[m.sex],
        "birthDate": m.birth_date.isoformat(),
        "relationCode": RELATION_CODES[m.relation],
        "disabilityGrade": m.disability_grade,
        "chronicIllness": m.chronic_illness,
        "workAbilityCode": WORK_ABILITY_CODES[m.work_ability],
        "householdId": m.household_id,
        "careSubsidy": None if m.care_subsidy is None else f"{m.care_subsidy:.2f}",
    }


def enrollment_json(e: Enrollment) -> dict[str, Any]:
    return {
        "categoryCode": CATEGORY_CODES[e.category],
        "statusCode": STATUS_CODES[e.status],
        "startDate": e.since.isoformat(),
        "monthlyAmount": f"{e.monthly_amount:.2f}",
        "incomeStable": e.income_stable,
        "lastReviewDate": e.last_reviewed_on.isoformat() if e.last_reviewed_on else None,
    }


def household_json(h: Household) -> dict[str, Any]:
    return {
        "householdId": h.id,
        "regionCode": h.district.code,
        "streetName": h.street,
        "address": h.address,
        "hukouCode": HUKOU_CODES[h.hukou_type],
        "members": [member_json(m) for m in h.members],
        "assistance": [enrollment_json(e) for e in h.enrollments],
        "assessedMonthlyIncome": (
            None if h.assessed_monthly_income is None else f"{h.assessed_monthly_income:.2f}"
        ),
        "incomeAssessedOn": h.income_assessed_on.isoformat() if h.income_assessed_on else None,
        "assessedMonthlyEarnings": (
            None if h.assessed_monthly_earnings is None else f"{h.assessed_monthly_earnings:.2f}"
        ),
        "updatedAt": _iso(h.updated_at),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Entry:
    household_id: str
    updated_at: datetime
    household: Household | None  # None once removed


class CivilAffairsRegistry:
    """The stand-in's mutable state: the population, a scenario's households laid over it,
    and changes made through /_sandbox, each change with a new ``updatedAt`` in the feed."""

    def __init__(self, population: Population) -> None:
        self._population = population
        self._entries = {h.id: _Entry(h.id, h.updated_at, h) for h in population.households}
        self._persons = dict(population.by_id_number)
        self._scenario: dict[str, Household] = {}  # as loaded, by household ID
        # The feed's order, kept until the next change: sorting every page made a full
        # sync of N households cost N²/page.
        self._order: list[_Entry] | None = None
        self._keys: list[tuple[datetime, str]] = []

    def household(self, household_id: str) -> Household | None:
        entry = self._entries.get(household_id)
        return entry.household if entry else None

    def person(self, id_number: str) -> Member | None:
        return self._persons.get(id_number)

    def changes(
        self, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[_Entry]:
        if self._order is None:
            self._order = sorted(
                self._entries.values(), key=lambda e: (e.updated_at, e.household_id)
            )
            self._keys = [(e.updated_at, e.household_id) for e in self._order]
        # Both bounds are lower bounds in the feed's order: updatedSince ≤ the time,
        # and the key after the cursor's.
        start = 0 if since is None else bisect.bisect_left(self._keys, (since, ""))
        if after is not None:
            start = max(start, bisect.bisect_right(self._keys, after))
        return self._order[start : start + limit]

    def _next_time(self) -> datetime:
        self._order = None  # called by every change, before it is made
        latest = max((e.updated_at for e in self._entries.values()), default=None)
        now = datetime.now(UTC)
        return now if latest is None else max(now, latest + timedelta(milliseconds=1))

    def move(self, household_id: str, street: str | None) -> Household | None:
        entry = self._entries.get(household_id)
        if entry is None or entry.household is None:
            return None
        current = entry.household
        streets = STREETS[current.district]
        # The next street of the district (a scenario's street may be none of them).
        at = streets.index(current.street) + 1 if current.street in streets else 0
        new_street = street or streets[at % len(streets)]
        entry.updated_at = self._next_time()
        entry.household = replace(current, street=new_street, updated_at=entry.updated_at)
        return entry.household

    def remove(self, household_id: str) -> bool:
        entry = self._entries.get(household_id)
        if entry is None or entry.household is None:
            return False
        for member in entry.household.members:
            self._persons.pop(member.id_number, None)
        entry.updated_at = self._next_time()
        entry.household = None
        return True

    def load(self, households: Sequence[Household]) -> FeedChanges:
        """Lay ``households`` over the population instead of the scenario loaded before.

        A household new to the feed is added, one that changes (a synthetic household
        replaced, a scenario household changed, a synthetic household back when no longer
        replaced) is replaced, one of the previous scenario's alone is removed: each of
        them with one new ``updatedAt``. Households loaded before and unchanged stay as
        they are.
        """
        wanted = {h.id: h for h in households}
        changed: dict[str, Household | None] = {
            hid: self._population.by_id.get(hid) for hid in self._scenario.keys() - wanted.keys()
        }
        changed |= {hid: h for hid, h in wanted.items() if self._scenario.get(hid) != h}
        self._scenario = wanted
        stamp = self._next_time()
        for hid in changed:  # everyone leaves first: a person may move between households
            current = self.household(hid)
            for member in current.members if current else ():
                self._persons.pop(member.id_number, None)
        added: list[str] = []
        replaced: list[str] = []
        removed: list[str] = []
        for hid, household in sorted(changed.items()):
            entry = self._entries.get(hid)
            if household is None:
                if entry is not None and entry.household is not None:
                    entry.household, entry.updated_at = None, stamp
                    removed.append(hid)
                continue
            now = replace(household, updated_at=stamp)
            if entry is None:
                self._entries[hid] = _Entry(hid, stamp, now)
                added.append(hid)
            else:
                (added if entry.household is None else replaced).append(hid)
                entry.household, entry.updated_at = now, stamp
            self._persons.update((m.id_number, m) for m in now.members)
        touched = bool(added or replaced or removed)
        return FeedChanges(
            stamp if touched else None, tuple(added), tuple(replaced), tuple(removed)
        )


def _encode_token(updated_at: datetime, household_id: str) -> str:
    raw = json.dumps([_iso(updated_at), household_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[datetime, str]:
    try:
        stamp, hid = json.loads(base64.urlsafe_b64decode(token.encode()))
        return datetime.fromisoformat(stamp), str(hid)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError("pageToken is not a token this service issued") from exc


def create_app(population: Population) -> StandInApp:
    registry = CivilAffairsRegistry(population)

    async def persons_batch(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("idNumbers") if isinstance(body, dict) else None
        if not isinstance(ids, list) or len(ids) > MAX_BATCH:
            return error(400, "BAD_REQUEST", f"idNumbers must be a list of at most {MAX_BATCH}")
        found = [registry.person(str(i)) for i in ids]
        return JSONResponse(
            {
                "persons": [member_json(m) for m in found if m is not None],
                "notFound": [i for i, m in zip(ids, found, strict=True) if m is None],
            }
        )

    async def households_batch(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("householdIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or len(ids) > MAX_BATCH:
            return error(400, "BAD_REQUEST", f"householdIds must be a list of at most {MAX_BATCH}")
        found = [registry.household(str(i)) for i in ids]
        return JSONResponse(
            {
                "households": [household_json(h) for h in found if h is not None],
                "notFound": [i for i, h in zip(ids, found, strict=True) if h is None],
            }
        )

    async def household_one(request: Request) -> JSONResponse:
        household = registry.household(request.path_params["household_id"])
        if household is None:
            return error(404, "NOT_FOUND", "no such household")
        return JSONResponse(household_json(household))

    async def household_feed(request: Request) -> JSONResponse:
        params = request.query_params
        try:
            since = (
                datetime.fromisoformat(params["updatedSince"].replace("Z", "+00:00"))
                if "updatedSince" in params
                else None
            )
            if since is not None and since.tzinfo is None:
                raise ValueError("updatedSince needs a time zone")
            size = int(params.get("pageSize", "200"))
            if not 1 <= size <= MAX_PAGE:
                raise ValueError(f"pageSize must be 1 to {MAX_PAGE}")
            after = _decode_token(params["pageToken"]) if "pageToken" in params else None
        except ValueError as exc:
            return error(400, "BAD_REQUEST", str(exc))
        entries = registry.changes(since, after, size + 1)
        page, more = entries[:size], len(entries) > size
        return JSONResponse(
            {
                "items": [
                    {
                        "householdId": e.household_id,
                        "updatedAt": _iso(e.updated_at),
                        "deleted": e.household is None,
                        "household": household_json(e.household) if e.household else None,
                    }
                    for e in page
                ],
                "nextPageToken": (
                    _encode_token(page[-1].updated_at, page[-1].household_id) if more else None
                ),
            }
        )

    async def sandbox_move(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        street = body.get("street") if isinstance(body, dict) else None
        household = registry.move(request.path_params["household_id"], street)
        if household is None:
            return error(404, "NOT_FOUND", "no such household")
        return JSONResponse(household_json(household))

    async def sandbox_remove(request: Request) -> JSONResponse:
        if not registry.remove(request.path_params["household_id"]):
            return error(404, "NOT_FOUND", "no such household")
        return JSONResponse({"removed": True})

    routes = [
        Route("/api/v1/persons:batchGet", persons_batch, methods=["POST"]),
        Route("/api/v1/households:batchGet", households_batch, methods=["POST"]),
        Route("/api/v1/households", household_feed, methods=["GET"]),
        Route("/api/v1/households/{household_id}", household_one, methods=["GET"]),
        Route("/_sandbox/households/{household_id}/move", sandbox_move, methods=["POST"]),
        Route("/_sandbox/households/{household_id}", sandbox_remove, methods=["DELETE"]),
        openapi_route(OPENAPI),
        health_route(),
    ]

    def load(scenario: Scenario | None) -> StandInApp:
        # The registry is this app's own: it changes in place, and the feed reports it.
        households = () if scenario is None else [e.household for e in scenario.households]
        app.feed_changes = registry.load(households)
        app.scenario = scenario
        return app

    app = StandInApp(routes, population=population, load=load)
    return app


OPENAPI = load_openapi("civil_affairs")
