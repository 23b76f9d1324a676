"""Scalars the hub describes in its own words."""

from __future__ import annotations

import dataclasses

from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types.scalar import ScalarDefinition

# Money: the same wire form as strawberry's Decimal, with the hub's meaning spelled out,
# including what callers who may see only bands receive.
Money: ScalarDefinition = dataclasses.replace(
    DecimalDefinition,
    description=(
        'An amount in yuan as a decimal string, e.g. "2232.00". Callers who may see '
        "amounts only as bands (see the access policy) receive a band instead, e.g. "
        '"2000-2500".'
    ),
)
