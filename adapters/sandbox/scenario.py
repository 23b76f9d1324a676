"""Scenarios: hand-built households that the stand-ins serve beside or instead of the
synthetic population, so that tests and trainers set up exactly the household a rule is
about.

A scenario file (YAML or JSON) is written in the hub's own vocabulary; see
``scenarios/example.yaml`` beside this module for every field, and
``adapters.sandbox.scenario_format`` for the rules of each. ``parse_scenario`` turns one
into a ``Scenario``: the households as the hub's records (``adapters.records``) and, per
department, the records that department holds about them, in the hub's record types.
Every stand-in serves them in its own wire format, exactly as it serves synthetic ones;
``adapters.sandbox.loading`` lays a scenario over built stand-ins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

# Hand-written scenario files want comments, which JSON cannot hold: they are YAML (of
# which JSON is a subset). PyYAML ships no type information.
import yaml  # type: ignore[import-untyped, unused-ignore]
from pydantic import ValidationError

from adapters.charity import CharityAid
from adapters.education import StudentRecord
from adapters.emergency_management import DisasterRecord
from adapters.health_insurance import MedicalRecord
from adapters.housing import Dwelling
from adapters.human_resources import EmploymentRecord
from adapters.records import Household
from adapters.sandbox.population import Population
from adapters.vocabulary import Source

EXAMPLE = Path(__file__).resolve().with_name("scenarios") / "example.yaml"


@dataclass(frozen=True, slots=True)
class ScenarioHousehold:
    """One hand-built household: civil affairs' record of it, and each department's.

    ``household.updated_at`` is a placeholder: civil affairs stamps the household when the
    scenario is loaded. A department with no records here knows nothing of the household.
    """

    household: Household
    health_insurance: tuple[MedicalRecord, ...] = ()
    education: tuple[StudentRecord, ...] = ()
    housing: tuple[Dwelling, ...] = ()
    human_resources: tuple[EmploymentRecord, ...] = ()
    emergency_management: tuple[DisasterRecord, ...] = ()
    charity: tuple[CharityAid, ...] = ()

    def records(self, source: Source) -> tuple[object, ...]:
        """What ``source`` holds about the household (civil affairs: the household)."""
        if source is Source.CIVIL_AFFAIRS:
            return (self.household,)
        found: tuple[object, ...] = getattr(self, source.value)
        return found


@dataclass(frozen=True)
class Scenario:
    """Hand-built households, in the order the file gives them."""

    households: tuple[ScenarioHousehold, ...]
    description: str | None = None

    def __len__(self) -> int:
        return len(self.households)

    @cached_property
    def by_id(self) -> dict[str, ScenarioHousehold]:
        return {entry.household.id: entry for entry in self.households}

    def counts(self) -> dict[str, int]:
        """How many records each department holds about the scenario's households."""
        return {
            source.value: sum(len(entry.records(source)) for entry in self.households)
            for source in Source
        }


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; ``errors`` says where and why, one line each,
    e.g. ``households[2].members[0].id_number: not a valid ID number (CHECKSUM)``."""

    def __init__(self, errors: Sequence[str], *, where: str = "scenario") -> None:
        self.errors = tuple(errors)
        self.where = where
        super().__init__(f"{where} is not valid:\n" + "\n".join(f"  {e}" for e in self.errors))


def parse_scenario(source: str | bytes | os.PathLike[str]) -> Scenario:
    """The scenario in ``source``: a path to a file, or the text (YAML or JSON) itself.

    A ``str`` is always the text, never a path: pass a ``pathlib.Path`` to read a file.
    Raises ``ScenarioError`` listing every problem found, each naming its entry.
    """
    where = "scenario"
    if isinstance(source, os.PathLike):
        path = Path(source)
        where = str(path)
        try:
            source = path.read_bytes()
        except OSError as exc:
            raise ScenarioError([f"cannot read the file: {exc.strerror}"], where=where) from None
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(["not UTF-8 text"], where=where) from None
    try:
        return scenario_from_data(_load_text(source))
    except ScenarioError as exc:
        raise ScenarioError(exc.errors, where=where) from None


def _unique_keys(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ScenarioError([f"not JSON: duplicate key {key!r}"])
    return dict(pairs)


def _mapping(loader: Any, node: Any, deep: bool = False) -> Any:
    """A YAML mapping, refusing a key written twice (the second would silently win)."""
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str) and key != "<<":
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep)


# Safe YAML (plain data only) that refuses duplicate keys.
_Loader: Any = type("_Loader", (yaml.SafeLoader,), {})
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def _load_text(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise ScenarioError([f"not JSON: line {exc.lineno}: {exc.msg}"]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([f"not YAML: {line}{problem}"]) from None


def scenario_from_data(data: object) -> Scenario:
    """The scenario in ``data``, a file's content already read (mappings and lists).

    Raises ``ScenarioError`` listing every problem found, each naming its entry.
    """
    # Imported here: the builder imports this module (its record types and error).
    from adapters.sandbox.scenario_build import build
    from adapters.sandbox.scenario_format import ScenarioFile

    if not isinstance(data, Mapping):
        raise ScenarioError(["must be a mapping with a list of households"])
    try:
        parsed = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([_message(e) for e in exc.errors()]) from None
    return build(parsed)


_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "dict_type": "must be a mapping",
}


def _message(error: Mapping[str, Any]) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    message = _MESSAGES.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    return f"{path or 'scenario'}: {message}"


def check_population(scenario: Scenario, population: Population) -> None:
    """Refuse a scenario whose people belong to a synthetic household it leaves in place.

    A scenario household replaces the synthetic one with its ID, so its people may be the
    replaced household's; anyone else's ID number would then be in two households.
    """
    errors = []
    for i, entry in enumerate(scenario.households):
        for j, member in enumerate(entry.household.members):
            other = population.by_id_number.get(member.id_number)
            if other is not None and other.household_id not in scenario.by_id:
                errors.append(
                    f"households[{i}].members[{j}].id_number: {member.id_number} of household "
                    f"{entry.household.id} is already a member of household "
                    f"{other.household_id} (the synthetic population)"
                )
    if errors:
        raise ScenarioError(errors)
