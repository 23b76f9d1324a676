"""GraphQL errors the hub means to show, with a ``code`` in their extensions.

Anything else raised in a resolver is unexpected: masked outside development and
logged with the request id.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

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


def is_expected(error: GraphQLError) -> bool:
    """Whether an error is one the hub means to show (not an internal failure)."""
    original = error.original_error
    return original is None or isinstance(original, HubError)
