"""GraphQL errors the hub means to show, with a ``code`` in their extensions.

Anything else raised in a resolver is unexpected: masked outside development and
logged with the request id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from graphql import GraphQLError
from graphql.pyutils import Path
from strawberry.extensions import SchemaExtension

from adapters.base import SourceError
from adapters.idnumber import InvalidIdNumber


class HubError(GraphQLError):
    """An error whose message and extensions are safe to show to the caller."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


def invalid_id_number(argument: str, exc: InvalidIdNumber) -> HubError:
    return HubError(
        f"Argument '{argument}' is not a valid ID number: {exc.message}.",
        "INVALID_ID_NUMBER",
        argument=argument,
        reason=exc.reason.value,
    )


def bad_input(argument: str, message: str) -> HubError:
    return HubError(f"Argument '{argument}' {message}.", "BAD_USER_INPUT", argument=argument)


def source_error(exc: SourceError) -> HubError:
    return HubError(
        f"The {exc.source.name} source could not answer: {exc.message}.",
        exc.code,
        source=exc.source.name,
        retryable=exc.retryable,
    )


def stale_notice(exc: SourceError, as_of: datetime, path: Path) -> HubError:
    """Said beside a section served from an earlier copy because its department failed."""
    error = HubError(
        f"The {exc.source.name} source could not answer: {exc.message}; "
        f"showing its data as of {as_of.isoformat()}.",
        exc.code,
        source=exc.source.name,
        retryable=exc.retryable,
        stale=True,
        asOf=as_of.isoformat(),
    )
    error.path = path.as_list()
    return error


class Notices(SchemaExtension):
    """Adds the errors resolvers noted without failing (``Context.notices``) to the answer."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        notices = getattr(self.execution_context.context, "notices", None)
        if notices and result is not None and hasattr(result, "errors"):
            result.errors = [*(result.errors or []), *notices]


def is_expected(error: GraphQLError) -> bool:
    """Whether an error is one the hub means to show (not an internal failure)."""
    original = error.original_error
    return original is None or isinstance(original, HubError)
