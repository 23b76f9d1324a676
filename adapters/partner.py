"""Adapter for partner regions' hubs (长三角): this hub asking theirs, over their partner API.

A partner hub runs this same software, so it answers the documents below, which every hub
trusts as built in (``hub.partners.documents``). Each call carries a fresh single-use
token of this hub (``authorize``) and each answer's signature is checked (``verify``)
before a byte of it is read; both are given by the hub, so that this module knows nothing
of its keys.

The resilience is the departments': a timeout bounded by the request's deadline, retries
with jittered backoff for reads, a circuit breaker per partner, and the last answer per
person standing in (labelled stale) when the partner fails, for ``stale_ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import orjson

from adapters.resilience import CircuitBreaker, remaining
from adapters.vocabulary import AssistanceCategory

CROSS_REGION_STATUS = """query CrossRegionStatus($idNumbers: [String!]!) {
  crossRegionStatus(idNumbers: $idNumbers) {
    idNumber
    receivesAssistance
    categories { category since }
  }
}
"""

RECEIVE_CASE_TRANSFER = """mutation ReceiveCaseTransfer($input: ReceiveCaseTransferInput!) {
  receiveCaseTransfer(input: $input) {
    ... on PartnerReceipt { messageId duplicate }
    ... on PartnerMessageError { code message }
  }
}
"""

RECEIVE_TRANSFER_DECISION = """mutation ReceiveTransferDecision(
  $input: ReceiveTransferDecisionInput!
) {
  receiveTransferDecision(input: $input) {
    ... on PartnerReceipt { messageId duplicate }
    ... on PartnerMessageError { code message }
  }
}
"""

DOCUMENTS = (CROSS_REGION_STATUS, RECEIVE_CASE_TRANSFER, RECEIVE_TRANSFER_DECISION)
BATCH = 100  # ID numbers per crossRegionStatus call: the partner API's limit
PATH = "/partner/graphql"
SIGNATURE_HEADER = "hub-signature"


class PartnerError(Exception):
    """A partner hub could not give a usable answer; ``code`` is what callers report."""

    code = "PARTNER_UNAVAILABLE"
    retryable = True

    def __init__(self, region: str, message: str) -> None:
        super().__init__(f"{region}: {message}")
        self.region = region
        self.message = message


class PartnerTimeout(PartnerError):
    code = "PARTNER_TIMEOUT"


class PartnerBadAnswer(PartnerError):
    """An answer that cannot be read, or an error it carries."""

    code = "PARTNER_BAD_ANSWER"
    retryable = False


class PartnerRefused(PartnerError):
    """The partner refused this hub (4xx): its token, or a document it does not run."""

    code = "PARTNER_REFUSED"
    retryable = False

    def __init__(self, region: str, message: str, *, refusal: str | None = None) -> None:
        super().__init__(region, message)
        self.refusal = refusal


class PartnerSignatureInvalid(PartnerError):
    """The answer's signature is missing or does not verify: nothing of it is used."""

    code = "PARTNER_SIGNATURE_INVALID"
    retryable = False


@dataclass(frozen=True, slots=True)
class CrossRegionRecord:
    """What a partner region says of one person: assisted there, in which categories."""

    id_number: str
    region: str
    receives_assistance: bool
    categories: tuple[tuple[AssistanceCategory, date], ...]


@dataclass(frozen=True, slots=True)
class PartnerAnswer:
    """One partner's answer about some people, with its provenance."""

    region: str
    records: Mapping[str, CrossRegionRecord]
    as_of: datetime
    latency_ms: float
    stale: bool = False
    failure: PartnerError | None = None  # why a stale copy stands in


@dataclass(frozen=True)
class CallPolicy:
    timeout: float = 5.0
    retries: int = 1
    backoff: float = 0.2
    breaker_failures: int = 5
    breaker_reset: float = 30.0
    stale_ttl: float = 0.0


Authorize = Callable[[], Awaitable[str]]
Verify = Callable[[bytes, str | None], Awaitable[None]]


class PartnerHubClient:
    """Calls to one partner hub's partner API."""

    def __init__(
        self,
        region: str,
        url: str,
        http: httpx.AsyncClient,
        *,
        authorize: Authorize,
        verify: Verify,
        policy: CallPolicy,
        breaker: CircuitBreaker,
        cache: dict[str, tuple[CrossRegionRecord, float]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.region = region
        self._url = url.rstrip("/") + PATH
        self._http = http
        self._authorize = authorize
        self._verify = verify
        self._policy = policy
        self.breaker = breaker
        self._cache = cache
        self._sleep = sleep

    async def status(self, id_numbers: Sequence[str]) -> PartnerAnswer:
        """What the partner says of each person (batched by ``BATCH``); when it fails, the
        last answers younger than ``stale_ttl`` stand in, or the error is raised."""
        wanted = list(dict.fromkeys(id_numbers))
        started = time.perf_counter()
        found: dict[str, CrossRegionRecord] = {}
        try:
            for i in range(0, len(wanted), BATCH):
                chunk = wanted[i : i + BATCH]
                data = await self.run(CROSS_REGION_STATUS, {"idNumbers": chunk}, read=True)
                found.update(self._records(data, chunk))
        except PartnerError as exc:
            return self._stale(wanted, exc, started)
        now = time.time()
        if self._policy.stale_ttl > 0:
            for key, record in found.items():
                self._cache[key] = (record, now)
        return PartnerAnswer(self.region, found, _utc(now), _ms(started))

    def _stale(self, wanted: list[str], exc: PartnerError, started: float) -> PartnerAnswer:
        ttl = self._policy.stale_ttl
        now = time.time()
        kept = {k: self._cache[k] for k in wanted if k in self._cache}
        if ttl <= 0 or len(kept) < len(wanted) or any(now - at > ttl for _, at in kept.values()):
            raise exc
        oldest = min((at for _, at in kept.values()), default=now)
        return PartnerAnswer(
            self.region,
            {k: record for k, (record, _) in kept.items()},
            _utc(oldest),
            _ms(started),
            stale=True,
            failure=exc,
        )

    def _records(self, data: Any, asked: Sequence[str]) -> dict[str, CrossRegionRecord]:
        try:
            items = data["crossRegionStatus"]
            result = {}
            for item in items:
                id_number = str(item["idNumber"])
                if id_number not in asked:
                    raise ValueError("an answer about someone not asked about")
                result[id_number] = CrossRegionRecord(
                    id_number=id_number,
                    region=self.region,
                    receives_assistance=bool(item["receivesAssistance"]),
                    categories=tuple(
                        (AssistanceCategory(c["category"]), date.fromisoformat(c["since"]))
                        for c in item["categories"]
                    ),
                )
        except (KeyError, TypeError, ValueError):
            raise PartnerBadAnswer(self.region, "the answer is not a crossRegionStatus") from None
        return result

    async def run(self, document: str, variables: Mapping[str, Any], *, read: bool) -> Any:
        """Run one of ``DOCUMENTS`` at the partner; its ``data``. Reads are retried;
        messages are not (the outbox retries them, and the partner takes each once)."""
        if not self.breaker.allow():
            raise PartnerError(self.region, "circuit open after repeated failures")
        attempts = self._policy.retries + 1 if read else 1
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    answer = await self._once(document, variables)
                    break
                except PartnerError as exc:
                    left = remaining()
                    if not exc.retryable or attempt >= attempts or (left is not None and left <= 0):
                        raise
                    await self._sleep(random.uniform(0, self._policy.backoff * 2 ** (attempt - 1)))
        except PartnerError as exc:
            if exc.retryable:
                self.breaker.record_failure()
            else:
                self.breaker.release()
            raise
        self.breaker.record_success()
        return answer

    async def _once(self, document: str, variables: Mapping[str, Any]) -> Any:
        body = orjson.dumps(
            {
                "documentId": "sha256:" + hashlib.sha256(document.encode()).hexdigest(),
                "variables": dict(variables),
            }
        )
        timeout = self._policy.timeout
        left = remaining()
        if left is not None:
            if left <= 0:
                raise PartnerTimeout(self.region, "the request's deadline has passed")
            timeout = min(timeout, left)
        try:
            headers = {
                "authorization": f"Bearer {await self._authorize()}",
                "content-type": "application/json",
                "x-purpose": "CROSS_REGION_CHECK",
            }
            async with asyncio.timeout(timeout):
                response = await self._http.post(self._url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise PartnerTimeout(self.region, f"no answer within {timeout:g}s") from None
        except httpx.TransportError:
            raise PartnerError(self.region, "cannot reach its hub") from None
        if response.status_code >= 500:
            raise PartnerError(self.region, f"its hub answered {response.status_code}")
        # Nothing of an answer is read before its signature is checked.
        await self._verify(response.content, response.headers.get(SIGNATURE_HEADER))
        try:
            decoded = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PartnerBadAnswer(self.region, "the answer is not JSON") from None
        if response.status_code >= 400:
            code = _first_code(decoded)
            raise PartnerRefused(
                self.region,
                f"its hub refused the request ({response.status_code} {code})",
                refusal=code,
            )
        if not isinstance(decoded, dict) or decoded.get("data") is None:
            raise PartnerBadAnswer(self.region, f"its hub answered {_first_code(decoded)}")
        return decoded["data"]


def _first_code(decoded: Any) -> str:
    try:
        return str(decoded["errors"][0]["extensions"]["code"])
    except (KeyError, IndexError, TypeError):
        return "an error"


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
