"""Working days (工作日), for the deadlines the rules count in them.

A working day is Monday to Friday. Public holidays (法定节假日) and the weekend days
worked in their place (调休) are not modelled: they are announced year by year, and no
source the hub reads carries them yet. A deadline that spans a holiday therefore falls
earlier than the official one, never later.
"""

from __future__ import annotations

from datetime import date, timedelta

_SATURDAY = 5


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (Monday to Friday)."""
    return day.weekday() < _SATURDAY


def add_working_days(start: date, days: int) -> date:
    """The day on which ``days`` working days after ``start`` have passed.

    ``start`` itself does not count, whatever day it is: a Friday plus one working day is
    the Monday after, and so is a Saturday plus one.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    if days == 0:
        return start
    # A weekend day counts on as the Friday before it would; from a working day, five
    # working days are seven calendar days.
    day = start - timedelta(days=max(0, start.weekday() - 4))
    weeks, rest = divmod(days, 5)
    day += timedelta(weeks=weeks)
    while rest:
        day += timedelta(days=1)
        if is_working_day(day):
            rest -= 1
    return day
