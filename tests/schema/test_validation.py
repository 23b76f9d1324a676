"""Validation is kept per query text (``schema.validation``): once per text and rules."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
import strawberry.schema.schema

import schema.validation as validation
from schema.validation import ValidationByText


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The query texts validated, as they are validated."""
    seen: list[str] = []
    real = strawberry.schema.schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document.loc.source.body)
        return real(schema, document, rules)

    monkeypatch.setattr(validation, "validate_document", counting)
    return seen


def test_a_text_is_validated_once_and_its_errors_kept(validated: list[str]):
    built = strawberry.Schema(query=Query, extensions=[lambda: ValidationByText(maxsize=2)])
    for _ in range(3):
        assert built.execute_sync("{ hello }").data == {"hello": "world"}
        refused = built.execute_sync("{ goodbye }")
        assert refused.data is None
        assert refused.errors
        assert "goodbye" in refused.errors[0].message
    assert validated == ["{ hello }", "{ goodbye }"]


def test_the_oldest_text_goes_first_and_schemas_keep_their_own(validated: list[str]):
    one = strawberry.Schema(query=Query, extensions=[lambda: ValidationByText(maxsize=2)])
    other = strawberry.Schema(query=Query, extensions=[lambda: ValidationByText(maxsize=2)])
    for text in ("{ hello }", "{ a: hello }", "{ b: hello }", "{ hello }"):
        assert one.execute_sync(text).errors is None
    assert other.execute_sync("{ b: hello }").errors is None
    assert validated == ["{ hello }", "{ a: hello }", "{ b: hello }", "{ hello }", "{ b: hello }"]
