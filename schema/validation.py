"""Validation of a document, once per query text: Strawberry's ``ValidationCache`` keys
its cache by the parsed document, whose hash walks the whole syntax tree on every request
(graphql-core's nodes hash by value); the text the document was parsed from says the same
and hashes once (Python keeps a string's hash).
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

Key = tuple[str, tuple[type[ASTValidationRule], ...]]
# Per schema: the hub builds a schema per app (and tests build many).
_VALIDATED: weakref.WeakKeyDictionary[GraphQLSchema, OrderedDict[Key, list[GraphQLError]]] = (
    weakref.WeakKeyDictionary()
)


class ValidationByText(SchemaExtension):
    """The errors of validating a query text under the same rules, kept for the
    ``maxsize`` texts used last."""

    def __init__(self, maxsize: int = 512) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            schema = context.schema._schema
            kept = _VALIDATED.setdefault(schema, OrderedDict())
            key = (context.query, tuple(context.validation_rules))
            errors = kept.get(key)
            if errors is None:
                errors = validate_document(schema, context.graphql_document, key[1])
                kept[key] = errors
                while len(kept) > self.maxsize:
                    kept.popitem(last=False)
            else:
                kept.move_to_end(key)
            context.pre_execution_errors = errors
        yield
