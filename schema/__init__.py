"""The GraphQL face of the hub: one schema over every department."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.schema.config import StrawberryConfig

import schema.enums  # noqa: F401  (registers the enums with their descriptions)
from schema.errors import Notices, is_expected
from schema.household import HouseholdQuery
from schema.sources import SourcesQuery


@strawberry.type(description="Read households and people across the seven departments.")
class Query(HouseholdQuery, SourcesQuery):
    pass


def build(*, mask_errors: bool = True) -> strawberry.Schema:
    """The hub's schema; unexpected errors are masked unless ``mask_errors`` is off."""
    # Parsing and validating the same documents again is most of a request's CPU.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        Notices,
    ]
    if mask_errors:
        extensions.append(lambda: MaskErrors(should_mask_error=lambda e: not is_expected(e)))
    return strawberry.Schema(
        query=Query,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )


def sdl() -> str:
    """The schema as SDL, as checked in at ``schema/schema.graphql``."""
    return build().as_str() + "\n"
