"""The hub's schema as an Apollo Federation v2 subgraph: ``Household`` keyed by ``id``.

Served in place of the plain schema when ``HUB_FEDERATION=true``; the plain schema is
left exactly as it is (``schema/schema.graphql``), and the subgraph's SDL is checked in
as ``schema/federation.graphql`` (``hub schema export --federation``).

``_entities`` is one more way to name households, so it goes the way ``household(id)``
goes: each reference is read from the index with the caller's reach in one batch (out of
reach is null, exactly as a household that does not exist), the fields below are guarded
by the same policy, and the request writes the same audit entry. Limits:

- at most ``max_page_size`` (100) references in one request, counted over every
  ``_entities`` field before any runs, as one page of ``households`` holds at most that
  many; more is refused as a whole (``TOO_MANY_REPRESENTATIONS``) and audited;
- in production the estimated cost counts the selection under ``_entities`` once per
  reference (where a list of unknown length counts ten);
- references are household IDs, not ID numbers, so they do not count towards
  ``HUB_MAX_ID_LOOKUPS``: they confirm nothing that ``household(id)`` does not;
- depth, aliases and tokens are limited as for any document;
- ``_service`` gives the SDL in development only; in production it is refused like
  introspection, and the router composes from the checked-in file.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, Final, cast

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema import Schema as FederationSchema
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.printer import print_schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import get_object_definition

from adapters.vocabulary import is_household_id
from schema import HubSchema, Query
from schema.context import Context, Info
from schema.errors import HubError
from schema.household import Household
from schema.limits import DEFAULT_LIST_SIZE, Limits, _Cost, limit_error, operation_cost
from schema.policy import OPEN, field

FEDERATION_VERSION: Final = "2.5"
ENTITIES = "_entities"
DEFAULT_MAX_REPRESENTATIONS = 100  # as the largest page of households, without limits
KEY = Key(fields=FieldSet("id"))

Entity = Annotated[
    Household,
    strawberry.union("_Entity", description="What a router may fetch from this subgraph."),
]


@strawberry.type(name="_Service", description="This subgraph, for the router.")
class Service:
    sdl: str = field(OPEN, description="The subgraph's SDL, federation directives included.")


@strawberry.type(
    name="Query", description="Read households and people across the seven departments."
)
class SubgraphQuery(Query):
    @field(
        OPEN,
        name=ENTITIES,
        description='Households by reference ({__typename: "Household", id}), for the '
        "router: null for one that is unknown or out of the caller's reach.",
    )
    async def entities(
        self, info: Info, representations: list[FederationAny]
    ) -> list[Entity | None]:
        references = [_reference(i, r) for i, r in enumerate(representations)]
        loader = info.context.loaders.entry_by_id
        wanted = [r for r in references if isinstance(r, str)]
        found = dict(zip(wanted, await asyncio.gather(*map(loader.load, wanted)), strict=True))
        resolved: list[Any] = []
        for reference in references:
            if isinstance(reference, HubError):
                resolved.append(reference)  # an error at this reference's place only
                continue
            entry = found[reference]
            resolved.append(Household(entry=entry) if entry is not None else None)
        return resolved

    @field(OPEN, name="_service", description="This subgraph's SDL (development only).")
    def service(self, info: Info) -> Service:
        if not info.context.settings.development:
            raise HubError(
                "Introspection is disabled: '_service' cannot be queried; compose from "
                "schema/federation.graphql.",
                "INTROSPECTION_DISABLED",
            )
        schema = cast(Subgraph, info.schema)
        return Service(sdl=schema.federation_sdl)


def _reference(index: int, representation: object) -> str | HubError:
    """The household ID a representation names, or an error naming what is wrong."""
    where = f"representations[{index}]"
    if not isinstance(representation, dict) or representation.get("__typename") != "Household":
        return HubError(
            f"Argument '{where}' is not a Household reference "
            '({"__typename": "Household", "id": ...}).',
            "BAD_USER_INPUT",
            argument=where,
        )
    household_id = representation.get("id")
    if not isinstance(household_id, str) or not is_household_id(household_id):
        return HubError(
            f"Argument '{where}.id' is not a household ID (H followed by 13 digits).",
            "BAD_USER_INPUT",
            argument=f"{where}.id",
        )
    return household_id


class Subgraph(HubSchema, FederationSchema):
    """The hub's schema with the federation fields; logs errors as ``HubSchema`` does."""

    @property
    def federation_sdl(self) -> str:
        sdl = getattr(self, "_federation_sdl", None)
        if sdl is None:
            sdl = self._federation_sdl = print_schema(self) + "\n"
        return sdl


def subgraph(**options: Any) -> Subgraph:
    """The subgraph schema over ``SubgraphQuery``, with ``Household`` keyed by ``id``.

    ``Household``'s definition is shared with the plain schema, which must not carry the
    key, so the key is on it only while this schema is built, and the built schema keeps
    a copy of the definition that carries it (what its SDL is printed from).
    """
    definition = get_object_definition(Household, strict=True)
    plain = definition.directives
    definition.directives = [*(plain or ()), KEY]
    try:
        built = Subgraph(query=SubgraphQuery, federation_version=FEDERATION_VERSION, **options)
    finally:
        definition.directives = plain
    graphql_type = built._schema.type_map["Household"]
    graphql_type.extensions = {
        **(graphql_type.extensions or {}),
        GraphQLCoreConverter.DEFINITION_BACKREF: dataclasses.replace(
            definition, directives=[*(plain or ()), KEY]
        ),
    }
    return built


# --- limits -----------------------------------------------------------------------------


class EntityLimit(SchemaExtension):
    """Refuses, before anything runs, a request with too many references in ``_entities``,
    and (with ``limits``) one whose cost, counting each reference, is over the limit."""

    def __init__(self, limits: Limits | None) -> None:
        super().__init__()
        self.limits = limits

    def _max_references(self, context: object) -> int:
        # The hub's page size, as the listing reads it; the limits' outside the hub.
        if isinstance(context, Context):
            return context.settings.max_page_size
        return self.limits.max_page_size if self.limits else DEFAULT_MAX_REPRESENTATIONS

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        operation = get_operation_ast(document, execution.operation_name) if document else None
        if document is not None and operation is not None and execution.result is None:
            schema = execution.schema._schema
            variables = execution.variables or {}
            found = list(_entity_fields(document, operation, variables))
            count = sum(n for _, n in found)
            context = execution.context
            most = self._max_references(context)
            if count > most:
                if isinstance(context, Context):
                    context.access.refuse("TOO_MANY_REPRESENTATIONS")
                execution.result = ExecutionResult(
                    data=None,
                    errors=[
                        HubError(
                            f"The request names {count} references in _entities; at most "
                            f"{most} are allowed in one request.",
                            "TOO_MANY_REPRESENTATIONS",
                            representations=count,
                            maxRepresentations=most,
                        )
                    ],
                )
            elif self.limits is not None and found:
                cost = _cost(schema, document, operation, variables, self.limits, found)
                if cost > self.limits.max_cost:
                    execution.result = ExecutionResult(
                        data=None,
                        errors=[
                            limit_error(
                                f"The operation would cost {cost} (each reference in "
                                f"_entities counted), more than the {self.limits.max_cost} "
                                "allowed; ask for fewer fields or fewer references.",
                                "QUERY_TOO_COSTLY",
                                operation,
                                cost=cost,
                                maxCost=self.limits.max_cost,
                            )
                        ],
                    )
        yield


def _cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, object],
    limits: Limits,
    found: Sequence[tuple[FieldNode, int]],
) -> int:
    """The operation's cost with each ``_entities`` selection counted per reference, where
    ``operation_cost`` counts it ``DEFAULT_LIST_SIZE`` times, as for any list."""
    cost = operation_cost(schema, document, operation, variables, limits)
    entity = schema.get_type("_Entity")
    for node, references in found:
        below = _Cost(schema, document, operation, variables, limits).selections(
            node.selection_set, entity, None
        )
        cost += (references - DEFAULT_LIST_SIZE) * below
    return cost


def _entity_fields(
    document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, object]
) -> Iterator[tuple[FieldNode, int]]:
    """Each ``_entities`` field the operation selects (on the root, through fragments
    too), with how many references it is given."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> Iterator[tuple[FieldNode, int]]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode) and selection.name.value == ENTITIES:
                yield selection, _references(selection, variables)
            elif isinstance(selection, InlineFragmentNode):
                yield from walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in seen:
                    seen.add(fragment.name.value)
                    yield from walk(fragment.selection_set)
                    seen.discard(fragment.name.value)

    yield from walk(operation.selection_set)


def _references(node: FieldNode, variables: Mapping[str, object]) -> int:
    for argument in node.arguments or ():
        if argument.name.value != "representations":
            continue
        value = argument.value
        if isinstance(value, ListValueNode):
            return len(value.values)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return len(given) if isinstance(given, list) else 1
    return 1
