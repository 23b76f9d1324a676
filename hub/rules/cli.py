"""``hub rules``: show the rules in force, check a rules file before it is deployed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path

import click
from pydantic import BaseModel

from adapters.vocabulary import AssistanceCategory
from hub.rules.loader import RulesError, load, rules_path
from hub.rules.model import Dated, Review, Rules
from hub.settings import Settings


@click.group()
def rules() -> None:
    """The assistance rules file (HUB_RULES_FILE): every amount, share and day count."""


@rules.command()
@click.pass_context
def show(ctx: click.Context) -> None:
    """Print the rules the hub runs with, value by value."""
    settings = ctx.find_object(Settings) or _settings()
    path = rules_path(settings.rules_file)
    try:
        loaded = load(settings.rules_file)
    except RulesError as exc:
        _fail(ctx, exc)
    click.echo(f"rules {loaded.version}")
    click.echo(f"file  {path}")
    for line in _lines(loaded):
        click.echo(line)


@rules.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def check(ctx: click.Context, file: Path) -> None:
    """Validate FILE; exit 1 and name every problem when it is not valid."""
    try:
        loaded = load(file)
    except RulesError as exc:
        _fail(ctx, exc)
    click.echo(f"{file}: rules {loaded.version} are valid")


def _settings() -> Settings:
    # Run on its own (not under ``hub``), the group builds the settings itself.
    try:
        return Settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(ctx: click.Context, exc: RulesError) -> None:
    click.echo(f"{exc.path}: the rules are not valid:", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)
    ctx.exit(1)


def _lines(loaded: Rules) -> Iterator[str]:
    # Walks the model rather than listing values by hand, so a new key is shown as soon as
    # the model has it; the descriptions say what each value means.
    for name, field in Rules.model_fields.items():
        value = getattr(loaded, name)
        if not isinstance(value, BaseModel | dict):
            continue
        yield ""
        yield f"[{name}] {field.description}"
        if isinstance(value, dict):
            yield from _review_lines(value)
            continue
        for key, sub in type(value).model_fields.items():
            item = getattr(value, key)
            if isinstance(item, tuple) and item and isinstance(item[0], Dated):
                yield f"  {key}  # {sub.description}"
                yield from (f"    from {e.effective_from.isoformat()}  {e.amount}" for e in item)
            else:
                yield f"  {key} = {_plain(item)}  # {sub.description}"


def _review_lines(review: dict[AssistanceCategory, Review]) -> Iterator[str]:
    for category, entry in review.items():
        if entry.months is None:
            yield f"  {category.value}: one-off, never reviewed  # {entry.reason}"
            continue
        yield f"  {category.value}: every {entry.months} months  # {entry.reason}"
        if entry.unstable_months is not None:
            yield (
                f"  {category.value}: every {entry.unstable_months} months when income is "
                f"unstable and a member can work  # {entry.unstable_reason}"
            )


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)
