"""At most ``max_id_lookups`` lookups by ID number in one request, counted before any runs.

A lookup by ID number confirms whether a number belongs to an assisted person, so many
in one request make a quick oracle (fifteen aliases of ``householdByMember`` test fifteen
guesses at once). Every field that declares a lookup (``schema.policy.lookup_fields``)
counts once per place it is selected, fragments at every spread, and a list argument
once per item; over the limit the request is refused as a whole, and audited.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from schema.context import Context
from schema.errors import HubError
from schema.limits import coerced_variables


class _Lookups:
    """The lookups an operation would make, and the values it would look up."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        lookups: frozenset[str],
    ) -> None:
        self._schema = schema
        self._lookups = lookups
        self._variables = variables
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._open: set[str] = set()
        self.count = 0
        self.values: list[str] = []

    def walk(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                self.walk(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                # Validated documents have neither unknown fragments nor cycles.
                if fragment is None or name in self._open:
                    continue
                self._open.add(name)
                try:
                    on = self._schema.get_type(fragment.type_condition.name.value)
                    self.walk(fragment.selection_set, on)
                finally:
                    self._open.discard(name)

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return
        if f"{parent.name}.{node.name.value}" in self._lookups:
            given = [v for argument in node.arguments or () for v in self._strings(argument.value)]
            self.count += max(1, len(given))
            self.values += given
        if node.selection_set is not None:
            self.walk(node.selection_set, get_named_type(definition.type))

    def _strings(self, value: ValueNode | None) -> Iterator[str]:
        if isinstance(value, StringValueNode):
            yield value.value
        elif isinstance(value, ListValueNode):
            for element in value.values:
                yield from self._strings(element)
        elif isinstance(value, VariableNode):
            given = self._variables.get(value.name.value)
            for item in given if isinstance(given, list) else [given]:
                if isinstance(item, str):
                    yield item


def count_lookups(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, object],
    fields: frozenset[str],
) -> tuple[int, list[str]]:
    """How many lookups (by the ``fields`` that look up) ``operation`` would make, and the
    values given."""
    lookups = _Lookups(schema, document, coerced_variables(schema, operation, variables), fields)
    lookups.walk(operation.selection_set, schema.get_root_type(operation.operation))
    return lookups.count, lookups.values


@functools.cache
def _field_names(fields: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({name.rpartition(".")[2] for name in fields}))


def _may_look_up(query: str | None, fields: frozenset[str]) -> bool:
    """Whether the query text names a field that looks up. A field is selected by its
    name, written out (aliases rename the answer, not the field; fragments name theirs),
    so a text without any of the names makes no lookup: the walk is skipped."""
    return query is None or any(name in query for name in _field_names(fields))


class LookupLimit(SchemaExtension):
    """Refuses a request with more than ``max_lookups`` lookups by ID number, before any."""

    def __init__(self, max_lookups: int, fields: frozenset[str]) -> None:
        super().__init__()
        self.max_lookups = max_lookups
        self.fields = fields

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None and not _may_look_up(execution.query, self.fields):
            yield  # no field that looks up is named anywhere in the text: nothing to count
            return
        operation = get_operation_ast(document, execution.operation_name) if document else None
        if document is not None and operation is not None:
            count, values = count_lookups(
                execution.schema._schema,
                document,
                operation,
                execution.variables or {},
                self.fields,
            )
            if count > self.max_lookups:
                context = execution.context
                if isinstance(context, Context):
                    context.access.refuse("TOO_MANY_LOOKUPS")
                    for value in values:
                        context.access.looked_up(context.keys.lookup_hash(value.strip().upper()))
                execution.result = ExecutionResult(
                    data=None,
                    errors=[
                        HubError(
                            f"The request makes {count} lookups by ID number; at most "
                            f"{self.max_lookups} are allowed in one request.",
                            "TOO_MANY_LOOKUPS",
                            lookups=count,
                            maxLookups=self.max_lookups,
                        )
                    ],
                )
        yield
