"""Each field says what it carries where it is declared; one guard enforces the policy.

A field is declared with ``field(level, value, ...)`` (a ``strawberry.field`` that also
records what it carries), on a type whose department is given by ``@section(Source.X)``.
``guard`` runs once, when the schema is built: it refuses to build over a field that
declares nothing, leaves fields that carry nothing to decide alone, and wraps the rest
so that, per request, a precomputed table (one per client kind and purpose, from
``hub.auth.policy``) says whether the value is served, masked or withheld. The policy
itself speaks no GraphQL.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema, default_field_resolver

from adapters.vocabulary import Source
from hub.auth.policy import Carries, Decision, Level, PersonalValue, View, mask
from hub.auth.principal import ClientKind, Purpose
from schema.errors import HubError

CARRIES = "hub.carries"
T = TypeVar("T")
S, F = Level.SUMMARY, Level.FULL
ID_NUMBER = PersonalValue.ID_NUMBER
NAME = PersonalValue.NAME
ADDRESS = PersonalValue.ADDRESS
DATE_OF_BIRTH = PersonalValue.DATE_OF_BIRTH
AMOUNT = PersonalValue.AMOUNT
INCOME = PersonalValue.INCOME
RULES_VERSION = "The version of the assistance rules this section's facts were judged by."


@dataclass(frozen=True, slots=True)
class Mark:
    """What one field declares; the section comes from its type unless it names one."""

    level: Level = Level.SUMMARY
    value: PersonalValue | None = None
    section: Source | None = None  # only for fields that open another department's section
    kinds: frozenset[ClientKind] | None = None
    lookup: PersonalValue | None = None
    open: bool = False  # carries nothing to decide: paging, provenance, the audit log
    withheld_as_null: bool = False  # a whole section: null (and WITHHELD in sources)

    def carries(self, type_section: Source | None) -> Carries:
        if self.open:
            return Carries(kinds=self.kinds, lookup=self.lookup)
        return Carries(
            section=self.section or type_section,
            level=self.level,
            value=self.value,
            kinds=self.kinds,
            lookup=self.lookup,
        )


OPEN = Mark(open=True)


def field(
    mark: Mark | Level = Level.SUMMARY,
    value: PersonalValue | None = None,
    /,
    *,
    description: str,
    **options: Any,
) -> Any:
    """``strawberry.field`` that records what it carries: a level of its type's section
    (or a whole ``Mark``) and, for a personal value, which kind it is."""
    declared = mark if isinstance(mark, Mark) else Mark(level=mark, value=value)
    return strawberry.field(description=description, metadata={CARRIES: declared}, **options)


def mutation(mark: Mark, /, *, description: str, **options: Any) -> Any:
    """``strawberry.mutation`` that records what it carries (mutations check reach and
    rights themselves; the mark says who may call them at all)."""
    return strawberry.mutation(description=description, metadata={CARRIES: mark}, **options)


def section(source: Source) -> Callable[[type[T]], type[T]]:
    """The department whose data a type's fields are."""

    def mark(cls: type[T]) -> type[T]:
        cls.__hub_section__ = source  # type: ignore[attr-defined]
        return cls

    return mark


class Unclassified(TypeError):
    """A field that does not say what it carries: it is never served."""


# Every distinct Carries a guarded field declares, numbered; tables are per view.
_CARRIES: dict[Carries, int] = {}


def _fields(
    graphql_schema: GraphQLSchema,
) -> Iterator[tuple[GraphQLObjectType, str, GraphQLField, Mark, Carries]]:
    """Every field of every object type, with its mark and what it carries."""
    for type_ in graphql_schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        definition = type_.extensions.get("strawberry-definition")
        type_section = getattr(getattr(definition, "origin", None), "__hub_section__", None)
        for name, graphql_field in type_.fields.items():
            strawberry_field = graphql_field.extensions.get("strawberry-definition")
            mark = getattr(strawberry_field, "metadata", {}).get(CARRIES)
            if not isinstance(mark, Mark):
                raise Unclassified(f"{type_.name}.{name} does not say what it carries")
            yield type_, name, graphql_field, mark, mark.carries(type_section)


def classified(graphql_schema: GraphQLSchema) -> dict[str, Carries]:
    """``"Type.field"`` → what it carries, for every field of every object type."""
    return {f"{t.name}.{name}": carries for t, name, _, _, carries in _fields(graphql_schema)}


def guard(graphql_schema: GraphQLSchema) -> None:
    """Wrap every field that carries something to decide; refuse unclassified fields."""
    roots = {graphql_schema.query_type, graphql_schema.mutation_type}
    for type_, name, graphql_field, mark, carries in list(_fields(graphql_schema)):
        if carries.open:
            continue
        index = _CARRIES.setdefault(carries, len(_CARRIES))
        graphql_field.resolve = _guarded(
            graphql_field.resolve or default_field_resolver,
            index,
            carries,
            f"{type_.name}.{name}",
            root=type_ in roots,
            null=mark.withheld_as_null,
        )


_TABLES: dict[tuple[ClientKind, Purpose], list[Decision]] = {}


def decisions(view: View) -> list[Decision]:
    """The decision for each guarded field's Carries, for one view (computed once)."""
    key = (view.kind, view.purpose)
    table = _TABLES.get(key)
    if table is None or len(table) < len(_CARRIES):
        table = _TABLES[key] = [view.decide(carries) for carries in _CARRIES]
    return table


def _guarded(
    resolve: Callable[..., Any],
    index: int,
    carries: Carries,
    name: str,
    *,
    root: bool,
    null: bool,
) -> Callable[..., Any]:
    refusal = f"'{name}' is not shared with this client."
    code = "FORBIDDEN" if root else "FIELD_WITHHELD"

    def guarded(source: Any, info: Any, **arguments: Any) -> Any:
        context = info.context
        table = context.decisions
        if len(table) <= index:  # a schema guarded after the table was made (tests)
            table = context.decisions = decisions(context.view)
        decision = table[index]
        if decision is Decision.ALLOW:
            return resolve(source, info, **arguments)
        if decision is Decision.DENY:
            if carries.lookup is not None:
                context.refuse_lookup(arguments)
            if null:
                return None
            raise HubError(refusal, code, field=name)
        assert carries.value is not None
        return _masked(resolve(source, info, **arguments), carries.value)

    return guarded


def _masked(result: Any, value: PersonalValue) -> Any:
    if inspect.isawaitable(result):

        async def later() -> Any:
            return mask(value, await result)

        return later()
    return mask(value, result)


def lookup_fields(graphql_schema: GraphQLSchema) -> frozenset[str]:
    """``"Type.field"`` of every lookup by a personal value, for the per-request limit."""
    return frozenset(
        name for name, carries in classified(graphql_schema).items() if carries.lookup is not None
    )
