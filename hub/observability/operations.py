"""The GraphQL operation of a request, told to its log lines, metrics and span.

``Observing`` is a schema extension (the schema puts it first, so that it sees the
answer last, after masking and the audit have had their say). It names the operation
two ways: the client's own operation name, scrubbed, for the log and the trace; and a
bounded label for metrics and span names, the operation's root field (``household``,
``households``), ``multiple`` for several, ``introspection``, or ``none``.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from hub.observability import context
from hub.observability.logs import scrub_text

MULTIPLE = "multiple"
INTROSPECTION = "introspection"
_MAX_NAME = 64


class Observing(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        info = context.current()
        if info is not None:
            execution = self.execution_context
            document = execution.graphql_document
            operation = _operation(document, execution.operation_name)
            if operation is not None and document is not None:
                info.operation_type = operation.operation.value
                info.label = label(operation, document)
                given = operation.name.value if operation.name else None
                info.operation = scrub_text(given[:_MAX_NAME]) if given else info.label
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        info = context.current()
        result = self.execution_context.result
        if info is None or result is None:
            return
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        for error in errors:
            code = (error.extensions or {}).get("code")
            if isinstance(code, str):
                info.note_code(code)
        if not errors:
            info.outcome = "ok"
        elif getattr(result, "data", None):
            info.outcome = "partial"
        else:
            info.outcome = "error"


def _operation(document: DocumentNode | None, name: str | None) -> OperationDefinitionNode | None:
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def label(operation: OperationDefinitionNode, document: DocumentNode) -> str:
    """The operation's root field, a bounded name: the schema has only so many."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names = set(_root_fields(operation.selection_set, fragments, depth=0))
    names.discard("__typename")
    if names and all(n.startswith("__") for n in names):
        return INTROSPECTION
    names = {n for n in names if not n.startswith("__")}
    if len(names) == 1:
        return names.pop()
    return MULTIPLE if names else context.NO_OPERATION


def _root_fields(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], depth: int
) -> Iterator[str]:
    if depth > 4:  # fragments within fragments: the root is reached by then
        return
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, depth + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _root_fields(fragment.selection_set, fragments, depth + 1)
