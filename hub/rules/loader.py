"""Reading the rules file: TOML in, a validated ``Rules`` out, or every problem by its path."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hub.rules.model import Rules

PACKAGED_RULES = Path(__file__).resolve().with_name("shanghai.toml")


class RulesError(Exception):
    """A rules file that cannot be used, with one line per problem.

    Each problem names the entry by its path in the file
    (``review.MINIMUM_LIVING.unstable_months: must be at least 1``), so that whoever
    edits the file can find it without reading Python.
    """

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path}: the rules are not valid:\n{lines}")


def rules_path(path: Path | None = None) -> Path:
    """The file ``load(path)`` reads: ``path``, or the packaged ``hub/rules/shanghai.toml``."""
    return PACKAGED_RULES if path is None else path


def load(path: Path | None = None) -> Rules:
    """Read and validate the rules file at ``path`` (``None``: the packaged file).

    Raises ``RulesError`` naming every problem found; amounts and shares are read as
    ``Decimal`` straight from the TOML text, never through a float.
    """
    where = rules_path(path)
    try:
        text = where.read_bytes().decode("utf-8")
    except OSError as exc:
        raise RulesError(where, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise RulesError(where, ["not UTF-8 text"]) from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(where, [f"not valid TOML: {exc}"]) from None
    try:
        return Rules.model_validate(data)
    except ValidationError as exc:
        # ``from None``: the pydantic report repeats the problems in its own words.
        raise RulesError(where, [describe(e) for e in exc.errors(include_url=False)]) from None


@functools.cache
def default_rules() -> Rules:
    """The packaged rules, read once per process.

    For the rules the hub runs with, load ``Settings().rules_file`` instead: an operator
    may point ``HUB_RULES_FILE`` at another file.
    """
    return load()


def describe(error: ErrorDetails) -> str:
    """One validation error as ``path.in.file: what is wrong``."""
    loc: tuple[str | int, ...] = error["loc"]
    ctx = error.get("ctx", {})
    kind = error["type"]
    if kind == "rules":
        loc = (*loc, *ctx["at"])
    elif loc and loc[-1] == "[key]":
        # A table keyed by an enum (review.<CATEGORY>): a wrong key is an unknown key.
        return f"{_path(loc[:-1])}: unknown key (expected one of {ctx.get('expected')})"
    return f"{_path(loc) or '(top level)'}: {_message(kind, ctx, error['msg'])}"


def _path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


_MESSAGES = {
    "missing": "missing",
    "extra_forbidden": "unknown key",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "date_type": "must be a date, written without quotes (2024-07-01)",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "finite_number": "must be a finite number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
}


def _message(kind: str, ctx: dict[str, object], fallback: str) -> str:
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    bounds = {
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
        "too_short": "must not be empty",
        "string_too_short": "must not be empty",
        "enum": "must be one of {expected}",
        "value_error": "{error}",
    }
    if kind in bounds:
        return bounds[kind].format(**ctx)
    # Our own problems, and any pydantic type not named above, keep their message.
    return fallback[:1].lower() + fallback[1:]
