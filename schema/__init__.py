"""The GraphQL face of the hub: one schema over every department."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

import schema.enums  # noqa: F401  (registers the enums with their descriptions)
from hub.observability.operations import Observing
from schema.audit import AuditQuery
from schema.auditing import Auditing
from schema.consent import ConsentMutation, ConsentQuery
from schema.coordination.alerts import AlertMutation, AlertQuery
from schema.coordination.charity import CharityMutation, CharityQuery
from schema.coordination.referral_mutations import ReferralMutation
from schema.coordination.referrals import ReferralQuery
from schema.coordination.reviews import ReviewMutation, ReviewQuery
from schema.errors import DatabaseErrors, Notices, VariableErrors, error_code, is_expected
from schema.execution import Executor
from schema.household import HouseholdQuery
from schema.limits import Limits, production_config, production_extensions
from schema.listing import ListingQuery
from schema.lookups import LookupLimit
from schema.partner_messages import PartnerMessageMutation
from schema.partners import LOOKUPS as CROSS_REGION_LOOKUPS
from schema.partners import PartnerQuery
from schema.policy import guard, lookup_fields
from schema.scalars import Money
from schema.sources import SourcesQuery
from schema.transfers import TransferMutation, TransferQuery
from schema.validation import ValidationByText

log = logging.getLogger(__name__)


@strawberry.type(description="Read households and people across the seven departments.")
class Query(
    HouseholdQuery,
    ListingQuery,
    ConsentQuery,
    AuditQuery,
    SourcesQuery,
    ReviewQuery,
    AlertQuery,
    ReferralQuery,
    CharityQuery,
    PartnerQuery,
    TransferQuery,
):
    pass


@strawberry.type(description="Record the work that lives between departments.")
class Mutation(
    ConsentMutation,
    ReviewMutation,
    ReferralMutation,
    AlertMutation,
    CharityMutation,
    TransferMutation,
    PartnerMessageMutation,
):
    pass


def build(
    *,
    mask_errors: bool = True,
    limits: Limits | None = None,
    max_id_lookups: int | None = None,
    federation: bool = False,
) -> strawberry.Schema:
    """The hub's schema; unexpected errors are masked unless ``mask_errors`` is off,
    ``limits`` (production) bounds depth, aliases, tokens and cost and hides the schema,
    and ``max_id_lookups`` (always, in the hub) bounds lookups by ID number per request.
    ``federation``: the same schema as an Apollo Federation v2 subgraph
    (``schema.federation``)."""
    # Parsing and validating the same documents again is most of a request's CPU.
    extensions: list[Callable[[], SchemaExtension]] = [
        # First, so that it leaves last: it reads the answer as the caller will see it.
        Observing,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationByText(maxsize=512),
        Notices,
        Auditing,
    ]
    if max_id_lookups is not None:
        lookups = max_id_lookups
        extensions.append(lambda: LookupLimit(lookups, looked_up))
    if mask_errors:
        extensions.append(lambda: MaskErrors(should_mask_error=lambda e: not is_expected(e)))
    if limits is not None:
        extensions += production_extensions(limits)
    if federation:
        from schema.federation import EntityLimit

        extensions.append(lambda: EntityLimit(limits))
    # Extensions leave an operation in reverse order: these rewrite variable errors and a
    # database that is away before MaskErrors would take them for internal failures.
    extensions += [VariableErrors, DatabaseErrors]
    options: dict[str, Any] = {
        "mutation": Mutation,
        "extensions": extensions,
        "config": production_config() if limits else StrawberryConfig(auto_camel_case=True),
        "scalar_overrides": {Decimal: Money},
        "execution_context_class": Executor,
    }
    if federation:
        from schema.federation import subgraph

        built: strawberry.Schema = subgraph(**options)
    else:
        built = HubSchema(query=Query, **options)
    # Every field says what it carries; the guard enforces the policy on those that must.
    guard(built._schema)
    looked_up = lookup_fields(built._schema) | CROSS_REGION_LOOKUPS
    return built


class HubSchema(strawberry.Schema):
    """Logs every error with the request it belongs to, before masking hides the detail."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context = execution_context.context if execution_context else None
        request_id = getattr(context, "request_id", "-")
        for error in errors:
            if is_expected(error):
                # The code only: messages of parse and input errors quote what was sent.
                log.info("request %s: %s", request_id, error_code(error))
            else:
                log.error("request %s: unexpected error", request_id, exc_info=error.original_error)


def sdl() -> str:
    """The schema as SDL, as checked in at ``schema/schema.graphql``."""
    return build().as_str() + "\n"


def federation_sdl() -> str:
    """The subgraph's SDL, as ``_service { sdl }`` gives it and as checked in at
    ``schema/federation.graphql``."""
    from schema.federation import Subgraph

    built = build(federation=True)
    assert isinstance(built, Subgraph)
    return built.federation_sdl
