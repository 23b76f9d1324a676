"""Household lists: a Relay connection over the index, its filter, its opaque cursors.

Each part of a page is read only when it is selected: the households of the page for
``edges`` and ``pageInfo``, the count for ``totalCount``. Either way the listing is
audited with its filter: the households of the page when they were read, an aggregate
access when only the count was.
"""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from adapters.vocabulary import AssistanceCategory, District
from hub.index.search import HouseholdFilter, Page
from schema import arguments
from schema.context import Context, Info
from schema.errors import bad_input
from schema.household import Household
from schema.pagination import PageInfo, read_once
from schema.policy import OPEN, field


@strawberry.type(description="A household in a list, with its cursor.")
class HouseholdEdge:
    cursor: str = field(
        OPEN,
        description="Pass as `after` to continue after this one; opaque, and good only for "
        "the client it was given to.",
    )
    node: Household = field(OPEN, description="The household.")


@dataclass
class Listing:
    """One ``households`` query: its filter and page, each read once, when first asked."""

    context: Context
    where: HouseholdFilter
    first: int
    after: str | None

    @read_once
    async def page(self) -> Page:
        context = self.context
        page = await context.households.page(self.where, first=self.first, after=self.after)
        for entry in page.entries:
            context.loaders.entry_by_id.prime(entry.household_id, entry)
        return page

    @read_once
    async def count(self) -> int:
        self.context.access.listed(_logged_filter(self.where), counted=True)
        return await self.context.households.count(self.where)


@strawberry.type(description="A page of households (Relay connection).")
class HouseholdConnection:
    listing: strawberry.Private[Listing]

    @field(OPEN, description="The households of this page.")
    async def edges(self, info: Info) -> list[HouseholdEdge]:
        page = await self.listing.page()
        return [
            HouseholdEdge(
                cursor=arguments.encode_cursor(info.context, e.household_id),
                node=Household(entry=e),
            )
            for e in page.entries
        ]

    @field(OPEN, description="Where this page stands.")
    async def page_info(self, info: Info) -> PageInfo:
        page = await self.listing.page()
        cursors = [arguments.encode_cursor(info.context, e.household_id) for e in page.entries]
        return PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=self.listing.after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )

    @field(OPEN, description="How many households match the filter.")
    async def total_count(self) -> int:
        return await self.listing.count()


@strawberry.input(description="Narrows a household list; every given condition must hold.")
class HouseholdFilterInput:
    district: District | None = strawberry.field(default=None, description="In this district.")
    street: str | None = strawberry.field(default=None, description="In this street or town.")
    category: AssistanceCategory | None = strawberry.field(
        default=None, description="Actively enrolled in this category."
    )


def _logged_filter(where: HouseholdFilter) -> list[tuple[str, str]]:
    logged = []
    if where.district is not None:
        logged.append(("district", where.district.code))
    if where.street is not None:
        logged.append(("street", where.street))
    if where.category is not None:
        logged.append(("category", where.category.value))
    return logged


@strawberry.type
class ListingQuery:
    @field(OPEN, description="Households from the index, in household-ID order.")
    async def households(
        self,
        info: Info,
        filter: HouseholdFilterInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> HouseholdConnection:
        limit = info.context.settings.max_page_size
        if not 1 <= first <= limit:
            raise bad_input("first", f"must be between 1 and {limit}")
        after_id = (
            arguments.decode_cursor(info.context, "after", after) if after is not None else None
        )
        where = HouseholdFilter(
            district=filter.district if filter else None,
            street=filter.street if filter else None,
            category=filter.category if filter else None,
        )
        info.context.access.listed(_logged_filter(where))
        return HouseholdConnection(
            listing=Listing(context=info.context, where=where, first=first, after=after_id)
        )
