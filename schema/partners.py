"""Partner regions (长三角) in the schema: the question partners may ask this hub
(``crossRegionStatus``), and what partner hubs say of this hub's households
(``Household.crossRegion``).

``crossRegionStatus`` is for partners only, through the partner API (signed tokens,
trusted documents, signed answers): for each ID number asked, whether the person receives
assistance here, in which categories and since when; nothing more. Every person asked
about is audited as a keyed hash with the partner and purpose, and a household found is
named in the disclosure log.

``Household.crossRegion`` is for agencies: per member and partner region, what that
region's hub says, with the partial-failure and staleness rules of any department (a
partner down costs only its own part, with an error naming it; an earlier answer stands
in, labelled stale, where configured).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from adapters.partner import PartnerAnswer, PartnerError, PartnerRefused
from adapters.vocabulary import AssistanceCategory, Source
from hub.auth.principal import ClientKind
from hub.households.service import State
from hub.partners import status
from schema import arguments
from schema.context import Context, Info
from schema.errors import HubError, bad_input
from schema.policy import ID_NUMBER, OPEN, Mark, S, field, section

if TYPE_CHECKING:
    from hub.index.search import IndexEntry

PARTNERS = frozenset({ClientKind.PARTNER})
AGENCIES = frozenset({ClientKind.AGENCY})
_PARTNER = Mark(open=True, kinds=PARTNERS)
# What ``Household.crossRegion`` carries: civil-affairs data of the household (who is
# assisted where), for agencies only; withheld (null) from everyone else.
CROSS_REGION = Mark(level=S, section=Source.CIVIL_AFFAIRS, kinds=AGENCIES, withheld_as_null=True)
_S = Mark(level=S, kinds=AGENCIES)
PART = "crossRegion"  # the part of a household the audit log names
# Counted by the lookup limit like every lookup by ID number, an item of the list at a time.
LOOKUPS = frozenset({"Query.crossRegionStatus"})


@strawberry.type(description="An assistance category a person is enrolled in, and since when.")
class CrossRegionCategory:
    category: AssistanceCategory = field(OPEN, description="The assistance category.")
    since: date = field(OPEN, description="When the enrollment began.")


@strawberry.type(
    description="跨区域核查: what this hub says of one person to a partner region: whether "
    "they receive assistance here, in which categories, since when. Nothing more."
)
class CrossRegionStatus:
    id_number: str = field(_PARTNER, description="The ID number, as asked.")
    receives_assistance: bool = field(
        _PARTNER, description="Whether the person receives assistance here now."
    )
    categories: list[CrossRegionCategory] = field(
        _PARTNER, description="The categories the person's household is actively enrolled in."
    )


@strawberry.type
class PartnerQuery:
    @field(
        _PARTNER,
        description="跨区域核查: for partner regions only, through the partner API: for each ID "
        f"number (at most {status.MAX_PER_CALL}), whether the person receives assistance here, "
        "in which categories and since when. Each person asked about is audited.",
    )
    async def cross_region_status(
        self, info: Info, id_numbers: list[str]
    ) -> list[CrossRegionStatus]:
        context = info.context
        if getattr(context.request.state, "partner", None) is None:
            # A partner's bearer token never reaches /graphql; this holds even if it did.
            context.access.refuse("FORBIDDEN")
            raise HubError(
                "crossRegionStatus is answered through the partner API only.",
                "FORBIDDEN",
                field="Query.crossRegionStatus",
            )
        if len(id_numbers) > status.MAX_PER_CALL:
            raise bad_input(
                "idNumbers",
                f"holds {len(id_numbers)} ID numbers; at most {status.MAX_PER_CALL} in one call",
            )
        values = [arguments.id_number(f"idNumbers[{i}]", v) for i, v in enumerate(id_numbers)]
        for value in values:
            context.access.looked_up(context.keys.lookup_hash(value))
        found = await status.standing(context.sessions, values)
        answers = []
        for asked, value in zip(id_numbers, values, strict=True):
            person = found.get(value)
            if person is not None:
                context.access.saw(person.household_id, PART)
            answers.append(
                CrossRegionStatus(
                    id_number=asked,
                    receives_assistance=bool(person and person.receives_assistance),
                    categories=[
                        CrossRegionCategory(category=c, since=s)
                        for c, s in sorted(
                            (person.categories if person else {}).items(), key=lambda i: i[0].value
                        )
                    ],
                )
            )
        return answers


# --- Household.crossRegion ---------------------------------------------------------------


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="What one partner region's hub says of one member.")
class CrossRegionMember:
    id_number: str = field(S, ID_NUMBER, description="The member's ID number.")
    region: str = field(_S, description="The partner region, e.g. JS (江苏), ZJ, AH.")
    receives_assistance: bool = field(
        _S, description="Whether the member receives assistance in that region."
    )
    categories: list[CrossRegionCategory] = field(
        _S, description="The categories there, and since when."
    )
    stale: bool = field(
        _S, description="Whether this is an earlier answer standing in for a failed partner."
    )


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="How one partner region's part of this answer was obtained.")
class CrossRegionSource:
    region: str = field(_S, description="The partner region.")
    state: State = field(_S, description="OK, STALE (as of `asOf`) or UNAVAILABLE.")
    as_of: datetime | None = field(_S, description="When the partner gave the answer shown.")
    latency_ms: float | None = field(_S, description="How long its hub took, milliseconds.")
    error_code: str | None = field(
        _S,
        description="Why it is unavailable: PARTNER_UNAVAILABLE, PARTNER_TIMEOUT, "
        "PARTNER_REFUSED, PARTNER_BAD_ANSWER or PARTNER_SIGNATURE_INVALID.",
    )


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="长三角: what partner regions' hubs say of the household's members.")
class CrossRegion:
    members: list[CrossRegionMember] = field(
        _S, description="Per member and partner region that answered: assisted there or not."
    )
    regions: list[CrossRegionSource] = field(
        _S, description="Each partner region asked, and how its part was obtained."
    )


@dataclass(frozen=True)
class _Asked:
    answers: list[tuple[str, PartnerAnswer | PartnerError]]


async def cross_region(info: Info, entry: IndexEntry) -> CrossRegion | None:
    """``Household.crossRegion``: every partner asked once per batch of households."""
    context = info.context
    loader = _loader(context)
    asked = await loader.load(tuple(entry.member_id_numbers))
    members: list[CrossRegionMember] = []
    regions: list[CrossRegionSource] = []
    path = info.path.as_list()
    for region, answer in asked.answers:
        if isinstance(answer, PartnerError):
            regions.append(
                CrossRegionSource(
                    region=region,
                    state=State.UNAVAILABLE,
                    as_of=None,
                    latency_ms=None,
                    error_code=answer.code,
                )
            )
            context.notices.append(_error(answer, path))
            continue
        regions.append(
            CrossRegionSource(
                region=region,
                state=State.STALE if answer.stale else State.OK,
                as_of=answer.as_of,
                latency_ms=round(answer.latency_ms, 1),
                error_code=None,
            )
        )
        if answer.stale and answer.failure is not None:
            context.notices.append(_error(answer.failure, path, as_of=answer.as_of))
        for id_number in entry.member_id_numbers:
            record = answer.records.get(id_number)
            if record is None:
                continue
            members.append(
                CrossRegionMember(
                    id_number=id_number,
                    region=region,
                    receives_assistance=record.receives_assistance,
                    categories=[
                        CrossRegionCategory(category=c, since=s) for c, s in record.categories
                    ],
                    stale=answer.stale,
                )
            )
    if regions and all(r.state is State.UNAVAILABLE for r in regions):
        return None  # every partner failed: nothing to show, an error names each
    context.access.saw(entry.household_id, PART)
    return CrossRegion(members=members, regions=regions)


def _error(exc: PartnerError, path: list[Any], *, as_of: datetime | None = None) -> HubError:
    extensions: dict[str, Any] = {"region": exc.region, "retryable": exc.retryable}
    if isinstance(exc, PartnerRefused) and exc.refusal:
        extensions["refusal"] = exc.refusal  # the partner's code: UNKNOWN_KEY, ...
    message = f"The partner region {exc.region} could not answer: {exc.message}"
    if as_of is not None:
        extensions |= {"stale": True, "asOf": as_of.isoformat()}
        message += f"; showing its answer as of {as_of.isoformat()}"
    error = HubError(message + ".", exc.code, **extensions)
    error.path = path
    return error


def _loader(context: Context) -> DataLoader[tuple[str, ...], _Asked]:
    """The request's loader: the members of every household asked for together."""
    state = context.request.state
    loader: DataLoader[tuple[str, ...], _Asked] | None = getattr(state, "cross_region", None)
    if loader is None:
        partners = context.resources.partners

        async def load(keys: list[tuple[str, ...]]) -> list[_Asked]:
            everyone = list(dict.fromkeys(i for key in keys for i in key))
            found = await partners.status(everyone)
            by_key: dict[tuple[str, ...], list[tuple[str, PartnerAnswer | PartnerError]]]
            by_key = defaultdict(list)
            for key in keys:
                for partner, answer in found:
                    by_key[key].append((partner.region, answer))
            return [_Asked(by_key[key]) for key in keys]

        loader = DataLoader(load)
        state.cross_region = loader
    return loader
