"""The written justification of a break-glass access (``X-Break-Glass``), read and judged.

HTTP header values are bytes; servers commonly decode them as Latin-1, which turns
Chinese text into mojibake and counts its length in bytes. The hub reads the raw bytes
as UTF-8, or, for clients that cannot put non-Latin-1 text in a header (a browser's
``fetch`` cannot), the RFC 8187 form ``UTF-8''`` followed by the percent-encoded text.

A justification must say something: it is weighed in characters, a Chinese (wide)
character counting as two since one carries about as much as a short word; it needs
``MIN_JUSTIFICATION`` of that weight and ``MIN_DISTINCT_LETTERS`` different letters or
characters, so that "aaaaaaaaaaaaaaaaaaaaaaaa" or a row of digits is refused.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

MIN_JUSTIFICATION = 20  # weight: characters, wide ones counting twice
MIN_DISTINCT_LETTERS = 5
MAX_JUSTIFICATION = 1000  # characters
_EXT_VALUE = "utf-8''"


class JustificationProblem(ValueError):
    """Why a justification is refused; ``code`` is what the caller is told."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode(raw: bytes) -> str:
    """The header's text: UTF-8, or RFC 8187 ``UTF-8''<percent-encoded>``; else refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JustificationProblem(
            "JUSTIFICATION_INVALID", "X-Break-Glass must be UTF-8 text"
        ) from None
    if text[: len(_EXT_VALUE)].lower() == _EXT_VALUE:
        try:
            text = unquote_to_bytes(text[len(_EXT_VALUE) :]).decode("utf-8")
        except UnicodeDecodeError:
            raise JustificationProblem(
                "JUSTIFICATION_INVALID", "X-Break-Glass: the percent-encoded text is not UTF-8"
            ) from None
    return text.strip()


def weight(text: str) -> int:
    """Length in characters, wide (East Asian) characters counting twice."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def check(text: str) -> str:
    """``text`` if it is a justification with substance; else ``JustificationProblem``."""
    if len(text) > MAX_JUSTIFICATION:
        raise JustificationProblem(
            "JUSTIFICATION_INVALID",
            f"a break-glass justification may hold at most {MAX_JUSTIFICATION} characters",
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in text):
        raise JustificationProblem(
            "JUSTIFICATION_INVALID", "a break-glass justification may not hold control characters"
        )
    if weight(text) < MIN_JUSTIFICATION:
        raise JustificationProblem(
            "JUSTIFICATION_TOO_SHORT",
            f"a break-glass justification needs at least {MIN_JUSTIFICATION} characters "
            "(a Chinese character counts as two)",
        )
    letters = {c.casefold() for c in text if unicodedata.category(c).startswith("L")}
    if len(letters) < MIN_DISTINCT_LETTERS:
        raise JustificationProblem(
            "JUSTIFICATION_INVALID",
            "a break-glass justification must say why in words "
            f"(at least {MIN_DISTINCT_LETTERS} different letters or characters)",
        )
    return text
