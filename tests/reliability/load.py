"""Load on a running hub, and what a caller would check of every answer.

``Load`` runs readers (one household with every section, or a page of households with
every section) and writers (``reportChange``, ``referHousehold``, ``recordCharityAid``)
against the hub's URL for a fixed time. Every answer is checked as it arrives
(``violations``): no 5xx (or only those the run allows, each with a code), every error
with a code, every null section with an error naming its department. Every write the hub
acknowledged (its payload with an ID) is kept, to be looked up afterwards.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import aiohttp

from adapters.vocabulary import District, Source

SECTIONS = {
    "civilAffairs": Source.CIVIL_AFFAIRS,
    "medical": Source.HEALTH_INSURANCE,
    "education": Source.EDUCATION,
    "housing": Source.HOUSING,
    "employment": Source.HUMAN_RESOURCES,
    "disaster": Source.EMERGENCY_MANAGEMENT,
    "charity": Source.CHARITY,
}
SOURCE_CODES = frozenset({"SOURCE_UNAVAILABLE", "SOURCE_TIMEOUT", "SOURCE_BAD_DATA"})
WHOLE = """
  id
  members { idNumber name age relation disabilityGrade }
  civilAffairs { address enrollments { category status monthlyAmount } }
  medical { totalOutOfPocket seriousIllness insured { idNumber scheme } }
  education { difficulty students { idNumber stage aid { kind amount } } }
  housing { dwellings { tenure floorArea lowRentHousing { since } } }
  employment { zeroEmployment members { idNumber status } }
  disaster { impacts { event { type occurredOn } damageLevel totalRelief } }
  charity { totalAmount aid { id organisationName kind amount provenance } }
  sources { source state asOf errorCode }
"""
HOUSEHOLD = f"query Household($id: ID!) {{ household(id: $id) {{ {WHOLE} }} }}"
LISTING = (
    "query Listing($district: District!) { households(first: 10, filter: {district: $district})"
    f" {{ totalCount edges {{ node {{ {WHOLE} }} }} }} }}"
)
REPORT_CHANGE = """mutation ReportChange($input: ReportChangeInput!) {
  reportChange(input: $input) {
    ... on ChangeReportPayload { report { id householdId } }
    ... on ReviewError { code message } } }"""
REFER = """mutation Refer($input: ReferHouseholdInput!) {
  referHousehold(input: $input) {
    ... on ReferralPayload { referral { id householdId } }
    ... on ReferralError { code message } } }"""
GIVE = """mutation Give($input: RecordCharityAidInput!) {
  recordCharityAid(input: $input) {
    ... on CharityAidPayload { replayed aid { id } }
    ... on CharityAidError { code message } } }"""
MUTATIONS = frozenset({"reportChange", "referHousehold", "recordCharityAid"})
DEPARTMENTS_REFERRED_TO = [s for s in Source if s is not Source.CIVIL_AFFAIRS]


@dataclass(frozen=True)
class Answer:
    """One request as the caller saw it."""

    kind: str  # household, listing, reportChange, referHousehold, recordCharityAid
    started: float  # monotonic
    seconds: float
    status: int  # HTTP status; 0: no answer (the connection failed)
    codes: tuple[str, ...]  # the error codes in the answer
    request_id: str | None
    body: dict[str, Any] | None


@dataclass(frozen=True)
class Write:
    """A write the hub acknowledged: its kind, the ID it gave, the household, the request."""

    kind: str
    id: str
    household_id: str
    request_id: str
    key: str | None = None  # recordCharityAid's idempotency key


@dataclass
class Figures:
    """What a run measured, for the report."""

    seconds: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    attempted_writes: int = 0

    def latencies_ms(self, kinds: Iterable[str] | None = None) -> list[float]:
        chosen = set(kinds) if kinds is not None else None
        return sorted(a.seconds * 1000 for a in self.answers if chosen is None or a.kind in chosen)

    def percentile_ms(self, q: float, kinds: Iterable[str] | None = None) -> float:
        values = self.latencies_ms(kinds)
        if not values:
            return 0.0
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]

    def codes(self) -> Counter[str]:
        return Counter(code for a in self.answers for code in a.codes)

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def summary(self) -> dict[str, Any]:
        reads = ("household", "listing")
        return {
            "seconds": round(self.seconds, 1),
            "requests": len(self.answers),
            "reads": sum(a.kind in reads for a in self.answers),
            "per_second": round(len(self.answers) / self.seconds, 1) if self.seconds else 0,
            "p50_ms": round(self.percentile_ms(50), 1),
            "p95_ms": round(self.percentile_ms(95), 1),
            "p99_ms": round(self.percentile_ms(99), 1),
            "max_ms": round(max(self.latencies_ms(), default=0.0), 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses().items())},
            "errors_by_code": dict(sorted(self.codes().items())),
            "writes_attempted": self.attempted_writes,
            "writes_acknowledged": len(self.writes),
        }


def violations(answer: Answer, *, allowed_5xx: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with an answer, as a caller would see it (empty: nothing).

    A 5xx is wrong unless every error it carries has a code in ``allowed_5xx``; an error
    without a code is wrong; a household section that is null must carry an error at its
    path with a department code naming its department, and ``sources`` must say so.
    """
    where = f"{answer.kind} (request {answer.request_id})"
    if answer.status == 0:
        return []  # no answer at all: the caller's own failure, counted apart
    body = answer.body
    if body is None:
        return [f"{where}: HTTP {answer.status} without a JSON body"]
    found: list[str] = []
    errors = body.get("errors") or []
    if answer.status >= 500 and (not errors or not set(answer.codes) <= allowed_5xx):
        found.append(f"{where}: HTTP {answer.status} with codes {list(answer.codes)}")
    for error in errors:
        if not (error.get("extensions") or {}).get("code"):
            found.append(f"{where}: an error without a code: {error.get('message')!r}")
    data = body.get("data")
    if not isinstance(data, dict):
        return found
    by_path = {tuple(e.get("path") or ()): e for e in errors}
    for path, node in _households(data):
        found += _sections(where, path, node, by_path)
    return found


def _households(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(data.get("household"), dict):
        return [(("household",), data["household"])]
    listing = data.get("households")
    if not isinstance(listing, dict):
        return []
    return [
        (("households", "edges", i, "node"), edge["node"])
        for i, edge in enumerate(listing.get("edges") or [])
        if isinstance(edge, dict) and isinstance(edge.get("node"), dict)
    ]


def _sections(
    where: str,
    path: tuple[Any, ...],
    node: dict[str, Any],
    by_path: dict[tuple[Any, ...], dict[str, Any]],
) -> list[str]:
    found = []
    states = {s["source"]: s for s in node.get("sources") or []}
    nulls = [name for name in SECTIONS if node.get(name) is None]
    if node.get("members") is None:
        nulls.append("members")
    for name in nulls:
        source = SECTIONS.get(name, Source.CIVIL_AFFAIRS)
        error = by_path.get((*path, name))
        extensions = (error or {}).get("extensions") or {}
        if extensions.get("code") not in SOURCE_CODES or extensions.get("source") != source.name:
            found.append(f"{where}: {name} is null, and its error says {extensions or None}")
        state = states.get(source.name, {})
        if state.get("state") != "UNAVAILABLE" or state.get("errorCode") != extensions.get("code"):
            found.append(f"{where}: {name} is null, and sources says {state or None}")
    return found


def today() -> date:
    # A day back: the hub reads "today" in Shanghai, which may be ahead of this clock.
    return date.today() - timedelta(days=1)


class Load:
    """Readers and writers against the hub at ``url`` (one aiohttp session for all)."""

    def __init__(
        self,
        url: str,
        *,
        caseworker: dict[str, str],
        charity: dict[str, str],
        households: list[str],
        consented: list[str],
        timeout: float = 30.0,
    ) -> None:
        self.url = f"{url}/graphql"
        self.caseworker = caseworker
        self.charity = charity
        self.households = households
        self.consented = consented
        self.timeout = timeout
        self.figures = Figures()
        self._stop = 0.0
        self._arrived = asyncio.Condition()

    async def run(self, seconds: float, *, readers: int = 16, writers: int = 2) -> Figures:
        """Readers and writers for ``seconds`` (or until ``stop``); a request under way at
        the end is finished."""
        connector = aiohttp.TCPConnector(limit=readers + writers + 4)
        started = time.monotonic()
        self._stop = started + seconds
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = [self._reader(session, random.Random(i)) for i in range(readers)]
            tasks += [self._writer(session, random.Random(100 + i), i) for i in range(writers)]
            await asyncio.gather(*tasks)
        self.figures.seconds = time.monotonic() - started
        return self.figures

    def stop(self) -> None:
        self._stop = time.monotonic()

    async def answered(self, count: int, *, since: float = 0.0) -> None:
        """Wait (a minute at most) for ``count`` answers to requests sent at ``since``
        (monotonic) or later: a slow machine gets the same work done, only later."""

        def enough() -> bool:
            return sum(a.started >= since for a in self.figures.answers) >= count

        async with asyncio.timeout(60), self._arrived:
            await self._arrived.wait_for(enough)

    async def post(
        self,
        session: aiohttp.ClientSession,
        kind: str,
        headers: dict[str, str],
        query: str,
        **variables: Any,
    ) -> Answer:
        started = time.monotonic()
        status, body, request_id = 0, None, None
        try:
            async with session.post(
                self.url,
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                status = response.status
                request_id = response.headers.get("x-request-id")
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        errors = (body or {}).get("errors") or [] if isinstance(body, dict) else []
        codes = tuple(str((e.get("extensions") or {}).get("code") or "NO_CODE") for e in errors)
        if kind in MUTATIONS and isinstance(body, dict):
            # A typed error of the mutation itself (a refusal, not a failure).
            typed = ((body.get("data") or {}).get(kind) or {}).get("code")
            codes += (f"{kind}:{typed}",) if typed else ()
        answer = Answer(
            kind,
            started,
            time.monotonic() - started,
            status,
            codes if status else ("NO_ANSWER",),
            request_id,
            body if isinstance(body, dict) else None,
        )
        self.figures.answers.append(answer)
        async with self._arrived:
            self._arrived.notify_all()
        return answer

    async def _reader(self, session: aiohttp.ClientSession, rng: random.Random) -> None:
        while time.monotonic() < self._stop:
            if rng.random() < 0.75:
                household = rng.choice(self.households)
                await self.post(session, "household", self.caseworker, HOUSEHOLD, id=household)
            else:
                district = rng.choice(list(District)).name
                await self.post(session, "listing", self.caseworker, LISTING, district=district)

    async def _writer(self, session: aiohttp.ClientSession, rng: random.Random, n: int) -> None:
        while time.monotonic() < self._stop:
            if n % 2 == 1 and self.consented:
                await self.give(session, rng)
            elif rng.random() < 0.5:
                await self.report_change(session, rng)
            else:
                await self.refer(session, rng)

    async def report_change(self, session: aiohttp.ClientSession, rng: random.Random) -> None:
        household = rng.choice(self.households)
        self.figures.attempted_writes += 1
        answer = await self.post(
            session,
            "reportChange",
            self.caseworker,
            REPORT_CHANGE,
            input={
                "householdId": household,
                "kind": rng.choice(["INCOME_CHANGE", "EMPLOYMENT_CHANGE", "MEMBER_JOINED"]),
                "occurredOn": today().isoformat(),
                "reportedBy": "CASEWORKER",
                "note": "reliability suite",
            },
        )
        report = _payload(answer, "reportChange", "report")
        if report is not None:
            self._acknowledged("reportChange", report["id"], household, answer)

    async def refer(self, session: aiohttp.ClientSession, rng: random.Random) -> None:
        household = rng.choice(self.households)
        self.figures.attempted_writes += 1
        answer = await self.post(
            session,
            "referHousehold",
            self.caseworker,
            REFER,
            input={
                "householdId": household,
                "toDepartment": rng.choice(DEPARTMENTS_REFERRED_TO).name,
                "reason": "reliability suite: please assess",
            },
        )
        referral = _payload(answer, "referHousehold", "referral")
        if referral is not None:
            self._acknowledged("referHousehold", referral["id"], household, answer)

    async def give(self, session: aiohttp.ClientSession, rng: random.Random) -> None:
        """Record charity aid, retrying with the same idempotency key until the hub answers
        with the aid (or a minute passes): what a charity's system would do."""
        household = rng.choice(self.consented)
        key = str(uuid.uuid4())
        self.figures.attempted_writes += 1
        given = {
            "householdId": household,
            "idempotencyKey": key,
            "kind": "CASH",
            "amount": f"{rng.randint(1, 99) * 10}.00",
            "givenOn": today().isoformat(),
            "projectName": "可靠性测试",
        }
        give_up = time.monotonic() + 60
        while True:
            answer = await self.post(session, "recordCharityAid", self.charity, GIVE, input=given)
            aid = _payload(answer, "recordCharityAid", "aid")
            if aid is not None:
                self._acknowledged("recordCharityAid", aid["id"], household, answer, key=key)
                return
            if time.monotonic() > give_up or _typed_error(answer, "recordCharityAid"):
                return
            await asyncio.sleep(0.2)

    def _acknowledged(
        self, kind: str, id_: str, household: str, answer: Answer, *, key: str | None = None
    ) -> None:
        assert answer.request_id is not None
        self.figures.writes.append(Write(kind, id_, household, answer.request_id, key))


def _payload(answer: Answer, field_name: str, inner: str) -> dict[str, Any] | None:
    data = (answer.body or {}).get("data") or {}
    result = data.get(field_name) or {}
    found = result.get(inner)
    return found if isinstance(found, dict) and found.get("id") else None


def _typed_error(answer: Answer, field_name: str) -> bool:
    data = (answer.body or {}).get("data") or {}
    return bool((data.get(field_name) or {}).get("code"))
