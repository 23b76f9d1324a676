"""GraphQL errors the hub means to show, with a ``code`` in their extensions.

Anything else raised in a resolver is unexpected: masked outside development and
logged with the request id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from graphql import GraphQLError, VariableDefinitionNode, print_ast
from graphql.pyutils import Path
from strawberry.extensions import SchemaExtension

from adapters.base import SourceError
from adapters.idnumber import InvalidIdNumber
from hub.db.session import unavailable


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


class DatabaseErrors(SchemaExtension):
    """A resolver that could not reach the hub's database fails with ``DATABASE_UNAVAILABLE``
    (retryable), at its own path, rather than as an unexpected, masked error: the caller
    learns to come back shortly, and the log says so in one line (``is_expected``)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [_database_error(e) or e for e in errors]


def _database_error(error: GraphQLError) -> GraphQLError | None:
    original = error.original_error
    if original is None or (error.extensions or {}).get("code") or not unavailable(original):
        return None  # an error with a code of its own (a department's) keeps it
    return GraphQLError(
        "The hub's database is unavailable; try again shortly.",
        error.nodes,
        path=error.path,
        extensions={"code": "DATABASE_UNAVAILABLE", "retryable": True},
    )


_VARIABLE = re.compile(r"Variable '\$([_A-Za-z][_0-9A-Za-z]*)'")


class VariableErrors(SchemaExtension):
    """Variables that do not fit their types are the caller's mistake: ``BAD_USER_INPUT``.

    graphql-core's own message repeats the value sent (which may be personal data, and
    would reach the logs) and is masked as an unexpected error in production; the hub
    says instead which variable, and what type it should have had.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        result.errors = [_variable_error(e) or e for e in errors]


def _variable_error(error: GraphQLError) -> GraphQLError | None:
    found = _VARIABLE.match(error.message)
    if found is None or not is_variable_error(error):
        return None
    name = found.group(1)
    node = error.nodes[0] if error.nodes else None
    expected = print_ast(node.type) if isinstance(node, VariableDefinitionNode) else None
    message = f"Variable '${name}' got an invalid value" + (
        f"; expected {expected}." if expected else "."
    )
    return GraphQLError(
        message,
        error.nodes,
        extensions={"code": "BAD_USER_INPUT", "variable": name},
    )


def is_variable_error(error: GraphQLError) -> bool:
    """A variable that did not fit its type: raised by graphql-core before execution."""
    return error.path is None and _VARIABLE.match(error.message) is not None


def is_expected(error: GraphQLError) -> bool:
    """Whether an error is one the hub means to show (not an internal failure)."""
    original = error.original_error
    return (
        original is None
        or isinstance(original, HubError)
        or is_variable_error(error)
        or unavailable(original)  # the database is away: DatabaseErrors says so
    )


def error_code(error: GraphQLError) -> str:
    """What a log line may say of an error the hub means to show: its code, no message."""
    code = (error.extensions or {}).get("code")
    if code:
        return str(code)
    if error.original_error is not None and unavailable(error.original_error):
        return "DATABASE_UNAVAILABLE"
    if is_variable_error(error):
        return "BAD_USER_INPUT"
    return "GRAPHQL_PARSE_FAILED" if "Syntax Error" in error.message else "INVALID_QUERY"
