"""What one GraphQL request may ask for in production: depth, aliases, tokens, cost.

Every refusal is an ordinary GraphQL error whose ``extensions.code`` says which limit was
hit (``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``, ``TOO_MANY_TOKENS``, ``QUERY_TOO_COSTLY``,
``INTROSPECTION_DISABLED``), so a client can tell them apart without parsing messages.

Depth and aliases are checked by one validation rule of our own rather than Strawberry's
``QueryDepthLimiter`` and ``MaxAliasesLimiter``: those walk a fragment again at every
spread, so a few hundred tokens of fragments that each spread the next one twice take
time exponential in their number (21 such fragments, 837 bytes: 7 s of CPU), they crash
with a ``KeyError`` on a spread of an unknown fragment, and built per request they give
the validation cache a new rule class each time, so it never hits. Here each fragment is
walked once per document, and the rules are built once per ``production_extensions`` call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import SKIP, VisitorAction
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.schema.config import StrawberryConfig

from hub.settings import QueryLimits

# How many items a list is assumed to hold when nothing says how long it is.
DEFAULT_LIST_SIZE = 10
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
# graphql-core appends suggestions as " Did you mean 'a', 'b', or 'c'?" (also "... the enum
# value 'X'?" and "... to use an inline fragment on 'T'?"); names cannot contain "?".
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


# The limits are settings: their defaults and bounds live in ``hub.settings`` alone.
Limits = QueryLimits


def production_config(*, auto_camel_case: bool = True) -> StrawberryConfig:
    """The schema configuration for production: no "Did you mean ...?" on unknown fields.

    Strawberry's ``disable_field_suggestions`` only strips the suggestion from "Cannot
    query field" errors; the extensions from :func:`production_extensions` strip the
    others (unknown arguments, types and enum values) as well.
    """
    return StrawberryConfig(auto_camel_case=auto_camel_case, disable_field_suggestions=True)


def production_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """The extensions that enforce ``limits`` and keep introspection and suggestions off.

    Factories, not instances: Strawberry builds each one anew for every request. Their
    order among the hub's other extensions does not matter.
    """
    # Built once, so every request hands the validation cache the same rule classes and an
    # already validated document is a cache hit.
    rules: list[type[ASTValidationRule]] = [_shape_rule(limits), NoIntrospection]
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: CostLimit(limits),
        lambda: PublicErrors(max_tokens=limits.max_tokens),
    ]


def limit_error(message: str, code: str, nodes: Any = None, **extensions: Any) -> GraphQLError:
    """A refusal by one of the limits, with its code and figures in ``extensions``."""
    return GraphQLError(message, nodes, extensions={"code": code, **extensions})


def _operation_label(operation: OperationDefinitionNode) -> str:
    return f"Operation '{operation.name.value}'" if operation.name else "The operation"


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


# --- depth and aliases: a validation rule over the document alone ---------------------


class _Shape:
    """Depth and alias count of selection sets, each fragment walked once per document.

    Depth counts the fields that have a selection set along the longest path, as
    Strawberry's ``QueryDepthLimiter`` does (``{ a { b { c } } }`` is 2 deep); introspection
    fields are left out of it, since they are answered from memory (and refused by
    :class:`NoIntrospection` where that is on). Every alias counts, a fragment's as often
    as the fragment is spread.
    """

    def __init__(self, document: DocumentNode) -> None:
        self._fragments = _fragments(document)
        self._known: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                below, below_aliases = self.selections(selection.selection_set)
                aliases += below_aliases + (selection.alias is not None)
                if selection.selection_set and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + below)
            elif isinstance(selection, InlineFragmentNode):
                below, below_aliases = self.selections(selection.selection_set)
                depth, aliases = max(depth, below), aliases + below_aliases
            elif isinstance(selection, FragmentSpreadNode):
                below, below_aliases = self._fragment(selection.name.value)
                depth, aliases = max(depth, below), aliases + below_aliases
        return depth, aliases

    def _fragment(self, name: str) -> tuple[int, int]:
        if name in self._known:
            return self._known[name]
        fragment = self._fragments.get(name)
        # An unknown fragment or a cycle counts for nothing here: graphql-core's own
        # rules (KnownFragmentNames, NoFragmentCycles) refuse the document anyway.
        if fragment is None or name in self._open:
            return 0, 0
        self._open.add(name)
        try:
            shape = self.selections(fragment.selection_set)
        finally:
            self._open.discard(name)
        self._known[name] = shape
        return shape


def _shape_rule(limits: Limits) -> type[ValidationRule]:
    class ShapeLimits(ValidationRule):
        """Refuses operations nested deeper than ``max_depth`` or with too many aliases."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            shape = _Shape(context.document)
            for operation in context.document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                depth, aliases = shape.selections(operation.selection_set)
                label = _operation_label(operation)
                if depth > limits.max_depth:
                    context.report_error(
                        limit_error(
                            f"{label} is nested {depth} levels deep; "
                            f"at most {limits.max_depth} are allowed.",
                            "QUERY_TOO_DEEP",
                            operation,
                            depth=depth,
                            maxDepth=limits.max_depth,
                        )
                    )
                if aliases > limits.max_aliases:
                    context.report_error(
                        limit_error(
                            f"{label} uses {aliases} aliases (fragments counted at each "
                            f"spread); at most {limits.max_aliases} are allowed.",
                            "TOO_MANY_ALIASES",
                            operation,
                            aliases=aliases,
                            maxAliases=limits.max_aliases,
                        )
                    )

    return ShapeLimits


class NoIntrospection(ValidationRule):
    """Refuses ``__schema`` and ``__type``; ``__typename`` stays, clients need it.

    graphql-core's ``NoSchemaIntrospectionCustomRule`` reports every field below them
    too, and without a code; introspection can only start at these two root fields.
    """

    def enter_field(self, node: FieldNode, *_args: Any) -> VisitorAction:
        if node.name.value not in INTROSPECTION_ROOTS:
            return None
        self.report_error(
            limit_error(
                f"Introspection is disabled: '{node.name.value}' cannot be queried.",
                "INTROSPECTION_DISABLED",
                node,
            )
        )
        return SKIP


# --- cost: an extension, because page sizes often come in variables ------------------


class _Cost:
    """The estimated cost of an operation, each fragment walked once per page size.

    Every field costs 1; the selection of a list field counts once per item it may hold:
    its ``first`` argument (a literal, a variable or the argument's default) capped at
    ``max_page_size``, else ``DEFAULT_LIST_SIZE``. A field that takes ``first`` but is
    not itself a list is a Relay connection: its ``edges`` and ``nodes`` lists hold
    ``first`` items. Introspection fields cost 1 whatever is below them.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, object],
        limits: Limits,
    ) -> None:
        self._schema = schema
        self._fragments = _fragments(document)
        self._limits = limits
        self._variables = coerced_variables(schema, operation, variables)
        self._known: dict[tuple[str, int | None], int] = {}
        self._open: set[str] = set()

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: int | None,
    ) -> int:
        """The cost of a selection set on ``parent``; ``page`` is the enclosing connection's."""
        cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                cost += self._field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._schema.get_type(condition.name.value) if condition else parent
                cost += self.selections(selection.selection_set, on, page)
            elif isinstance(selection, FragmentSpreadNode):
                cost += self._fragment(selection.name.value, page)
        return cost

    def _fragment(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self._known:
            return self._known[key]
        fragment = self._fragments.get(name)
        # Only validated documents get here, so neither happens; a cycle must not hang.
        if fragment is None or name in self._open:
            return 0
        self._open.add(name)
        try:
            on = self._schema.get_type(fragment.type_condition.name.value)
            cost = self.selections(fragment.selection_set, on, page)
        finally:
            self._open.discard(name)
        self._known[key] = cost
        return cost

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> int:
        if node.selection_set is None or node.name.value.startswith("__"):
            return 1
        definition = (
            parent.fields.get(node.name.value)
            if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
            else None
        )
        type_ = definition.type if definition else None
        first = self._first(node, definition.args.get("first") if definition else None)
        if type_ is not None and is_list_type(get_nullable_type(type_)):
            items = first if first is not None else page if page is not None else DEFAULT_LIST_SIZE
            below = self.selections(node.selection_set, get_named_type(type_), None)
            return 1 + items * below
        named = get_named_type(type_) if type_ is not None else None
        return 1 + self.selections(node.selection_set, named, first)

    def _first(self, node: FieldNode, argument: GraphQLArgument | None) -> int | None:
        value: object = None
        for given in node.arguments or ():
            if given.name.value != "first":
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                value = self._variables.get(given.value.name.value)
            break
        else:
            value = argument.default_value if argument else None
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        # Larger pages are refused when the field resolves, so they cannot cost more.
        return max(0, min(value, self._limits.max_page_size))


def coerced_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Mapping[str, object]
) -> dict[str, Any]:
    """The variables as execution will see them: coerced to their types (``100.0`` and
    ``1e2`` for an ``Int`` are 100), declared defaults filled in; empty if they do not
    coerce, since execution then refuses the operation anyway."""
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables), max_errors=1
    )
    return dict(coerced.coerced) if isinstance(coerced, VariableValues) else {}


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, object],
    limits: Limits,
) -> int:
    """The estimated cost of ``operation`` (see :class:`_Cost` for how it is counted)."""
    root = schema.get_root_type(operation.operation)
    return _Cost(schema, document, operation, variables, limits).selections(
        operation.selection_set, root, None
    )


class CostLimit(SchemaExtension):
    """Refuses, before anything resolves, an operation that would cost more than allowed.

    Checked when the operation is about to run rather than as a validation rule, because
    only then are its variables known (``first: $n``).
    """

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            cost = operation_cost(
                context.schema._schema, document, operation, context.variables or {}, self.limits
            )
            if cost > self.limits.max_cost:
                # Strawberry does not execute when an extension has already set a result.
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        limit_error(
                            f"{_operation_label(operation)} would cost {cost}, more than the "
                            f"{self.limits.max_cost} allowed; ask for fewer fields or smaller "
                            "pages (first).",
                            "QUERY_TOO_COSTLY",
                            operation,
                            cost=cost,
                            maxCost=self.limits.max_cost,
                        )
                    ],
                )
        yield


# --- errors: codes for the parser's refusal, no suggestions ---------------------------


class PublicErrors(SchemaExtension):
    """Gives the token limit's syntax error its code and strips every "Did you mean".

    The parser's refusal is raised out of ``ParserCache`` (or caught by Strawberry when
    there is no cache), so it is marked both when it passes through and in the result.
    """

    def __init__(self, *, max_tokens: int) -> None:
        super().__init__()
        self.too_many_tokens = f"Document contains more than {max_tokens} tokens"
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            self._tidy(error)
            raise
        result = self.execution_context.result
        for reported in getattr(result, "errors", None) or ():
            self._tidy(reported)

    def _tidy(self, error: GraphQLError) -> None:
        # Errors are changed in place: the validation cache hands the same ones out again, and
        # both changes give the same answer when made twice.
        if isinstance(error, GraphQLSyntaxError) and self.too_many_tokens in error.message:
            error.extensions = {
                **(error.extensions or {}),
                "code": "TOO_MANY_TOKENS",
                "maxTokens": self.max_tokens,
            }
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)
