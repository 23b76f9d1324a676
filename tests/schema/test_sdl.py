from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

import schema

SDL = Path(schema.__file__).with_name("schema.graphql")


def test_the_checked_in_sdl_matches_the_code():
    assert SDL.read_text(encoding="utf-8") == schema.sdl(), (
        "schema/schema.graphql is out of date: run `hub schema export`"
    )


def test_every_type_field_and_enum_value_is_described():
    missing = []
    for name, kind in schema.build()._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not kind.description:
            missing.append(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInputObjectType):
            if name == "Query":
                continue
            missing += [f"{name}.{f}" for f, d in kind.fields.items() if not d.description]
        if isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in kind.values.items() if not d.description]
    assert missing == []
