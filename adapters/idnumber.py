"""Citizen ID numbers (公民身份号码, GB 11643-1999).

An ID number is 18 characters: a 6-digit region code (GB/T 2260), the birth date as
YYYYMMDD, a 3-digit sequence (odd for men, even for women) and a check character
(0-9 or X) computed with ISO 7064 MOD 11-2. It is the join key across departments, so
an invalid one is rejected before it reaches any department system.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date

from adapters.vocabulary import District, Sex

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# ASCII digits only: ``\d`` would take full-width and other scripts' digits too.
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

# Provinces of mainland China, Taiwan, Hong Kong and Macao (first two digits).
PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    }
)

# Shanghai codes that are no longer in use but still appear on ID numbers issued
# before the districts were merged or renamed (卢湾, 闸北, 南汇, the old counties).
_FORMER_SHANGHAI_CODES = frozenset(
    {
        "310103",
        "310108",
        "310119",
        "310225",
        "310226",
        "310227",
        "310228",
        "310229",
        "310230",
        "310102",
        "310100",
        "310200",
        "310221",
        "310222",
        "310223",
        "310224",
    }
)
SHANGHAI_REGION_CODES = frozenset(d.code for d in District) | _FORMER_SHANGHAI_CODES

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class InvalidReason(enum.Enum):
    LENGTH = "LENGTH"
    FORMAT = "FORMAT"
    REGION = "REGION"
    BIRTH_DATE = "BIRTH_DATE"
    CHECKSUM = "CHECKSUM"


class InvalidIdNumber(ValueError):
    """An ID number that fails GB 11643; ``reason`` says which rule it broke."""

    def __init__(self, reason: InvalidReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    """A validated ID number and what it encodes."""

    value: str
    region_code: str
    birth_date: date
    sex: Sex

    def __str__(self) -> str:
        return self.value


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _region_known(code: str) -> bool:
    if code[:2] not in PROVINCE_CODES:
        return False
    if code.startswith("31"):
        return code in SHANGHAI_REGION_CODES
    # Outside Shanghai only the province is checked: the hub does not carry the whole
    # national code table, and partner regions validate their own codes.
    return code[2:] != "0000" or code[:2] in {"71", "81", "82"}


def parse(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate ``raw`` and return what it encodes, or raise InvalidIdNumber.

    A lowercase ``x`` is accepted and normalised; surrounding spaces are not.
    """
    value = raw.upper()
    if len(value) != 18:
        raise InvalidIdNumber(InvalidReason.LENGTH, f"must be 18 characters, got {len(value)}")
    if not _SHAPE.fullmatch(value):
        raise InvalidIdNumber(InvalidReason.FORMAT, "must be 17 digits followed by a digit or X")
    region = value[:6]
    if not _region_known(region):
        raise InvalidIdNumber(InvalidReason.REGION, f"unknown region code {region}")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            InvalidReason.BIRTH_DATE, f"impossible birth date {value[6:14]}"
        ) from None
    if born < EARLIEST_BIRTH_DATE or born > (today or date.today()):
        raise InvalidIdNumber(
            InvalidReason.BIRTH_DATE, f"birth date {born.isoformat()} is out of range"
        )
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber(InvalidReason.CHECKSUM, "check digit does not match")
    sex = Sex.MALE if int(value[16]) % 2 == 1 else Sex.FEMALE
    return IdNumber(value=value, region_code=region, birth_date=born, sex=sex)


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except InvalidIdNumber:
        return False
    return True


def make(region_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid ID number (used by the synthetic population)."""
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask(value: str) -> str:
    """Mask an ID number for display: ``310***********123X``."""
    return value[:3] + "*" * 11 + value[-4:]
