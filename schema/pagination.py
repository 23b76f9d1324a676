"""What every Relay connection of the schema shares."""

from __future__ import annotations

import strawberry

from schema.policy import OPEN, field


@strawberry.type(description="Pagination state of a connection (Relay).")
class PageInfo:
    has_next_page: bool = field(OPEN, description="Whether more items follow.")
    has_previous_page: bool = field(OPEN, description="Whether items come before.")
    start_cursor: str | None = field(OPEN, description="Cursor of the first edge.")
    end_cursor: str | None = field(OPEN, description="Cursor of the last edge.")
