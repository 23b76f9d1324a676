"""The README's GraphQL examples are valid against the schema, so they cannot drift."""

import re
from pathlib import Path

from graphql import parse, validate

import schema

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_graphql_example_in_the_readme_validates():
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    graphql_schema = schema.build()._schema
    for block in blocks:
        assert validate(graphql_schema, parse(block)) == [], block
