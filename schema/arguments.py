"""Arguments read the same way everywhere: household IDs, ID numbers, page cursors."""

from __future__ import annotations

from adapters import idnumber
from adapters.vocabulary import is_household_id
from schema.context import Context
from schema.errors import bad_input, invalid_id_number
from schema.pagination import NOT_OURS, open_cursor, seal_cursor


def household_id(argument: str, value: str) -> str:
    """``value`` if it is a household ID (H and 13 ASCII digits, nothing more)."""
    if not is_household_id(value):
        raise bad_input(argument, "is not a household ID (H followed by 13 digits)")
    return value


def id_number(argument: str, value: str) -> str:
    """The normalised ID number, or an INVALID_ID_NUMBER error naming what is wrong."""
    try:
        return idnumber.parse(value).value
    except idnumber.InvalidIdNumber as exc:
        raise invalid_id_number(argument, exc) from None


def encode_cursor(context: Context, household_id: str, kind: str = "households") -> str:
    """An opaque cursor: sealed for this client, so it neither names nor links a household."""
    return seal_cursor(context, kind, household_id)


def decode_cursor(context: Context, argument: str, cursor: str, kind: str = "households") -> str:
    """The household ID a cursor of ``encode_cursor`` holds."""
    (found,) = open_cursor(context, kind, cursor, parts=1, argument=argument)
    if not is_household_id(found):
        raise bad_input(argument, NOT_OURS)
    return found
