"""The one place the policy table is enforced: every field of every answer passes here.

``Permissions`` looks each field up in ``hub.auth.policy`` (deny by default), masks the
values the caller may see only masked, withholds sections, and, when the operation is
over, appends what was disclosed or refused to the audit log.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from strawberry.extensions import SchemaExtension

from hub.auth.policy import Decision, Rule, decide, mask
from schema.context import Context
from schema.errors import HubError

log = logging.getLogger(__name__)

# Household fields that carry a department's data; the rest come from the index.
SECTION_FIELDS = frozenset(
    {"members", "civilAffairs", "medical", "education", "housing", "employment", "disaster",
     "charity"}
)  # fmt: skip


class Permissions(SchemaExtension):
    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: str,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        context: Context = info.context
        type_name, field_name = info.parent_type.name, info.field_name
        if field_name.startswith("__"):
            return _next(root, info, *args, **kwargs)
        key = (type_name, field_name)
        verdict = context.decisions.get(key)
        if verdict is None:
            verdict = context.decisions[key] = decide(context.principal, type_name, field_name)
        decision, rule = verdict
        if type_name == "Household":
            household_id = root.entry.household_id
            if decision is Decision.DENY and field_name in SECTION_FIELDS:
                return None  # withheld: Household.sources says so
            if decision is not Decision.DENY:
                context.access.saw(
                    household_id, field_name if field_name in SECTION_FIELDS else "household"
                )
        elif type_name == "Person" and decision is not Decision.DENY:
            context.access.saw(root.record.household_id, "members")
        elif type_name == "Mutation":
            context.access.attempted = True
        if decision is Decision.DENY:
            if rule is not None and rule.lookup is not None:
                # A lookup this client may not make is refused and still audited, with
                # what it tried to look up.
                context.access.refuse("FORBIDDEN")
                for value in lookup_values(kwargs):
                    context.access.looked_up(context.keys.lookup_hash(value))
            raise HubError(
                f"'{type_name}.{field_name}' is not shared with this client.",
                "FORBIDDEN" if type_name in ("Query", "Mutation") else "FIELD_WITHHELD",
                field=f"{type_name}.{field_name}",
            )
        result = _next(root, info, *args, **kwargs)
        if decision is Decision.MASK and rule is not None:
            return _masked(result, rule)
        return result

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        record = context.access.record(
            context.principal,
            request_id=context.request_id,
            operation=self.execution_context.operation_name
            or str(self.execution_context.operation_type.value),
        )
        if record is None:
            return
        try:
            await context.resources.audit.append(record)
        except Exception:
            # No disclosure without its record: the answer is withheld, and the cause,
            # which may name internals, goes to the log only.
            log.exception("request %s: the audit entry could not be written", context.request_id)
            result = self.execution_context.result
            if result is not None:
                result.data = None
                result.errors = [
                    HubError(
                        "The access could not be recorded, so nothing is disclosed; "
                        "try again later.",
                        "AUDIT_UNAVAILABLE",
                    )
                ]


def lookup_values(arguments: dict[str, Any]) -> list[str]:
    """The values a lookup field was given (strings, and the strings of list arguments),
    as they would be looked up: trimmed and in capitals, as ID numbers are normalised."""
    values: list[str] = []
    for value in arguments.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                values.append(item.strip().upper())
    return values


def _masked(result: Any, rule: Rule) -> Any:
    assert rule.mask is not None
    kind = rule.mask
    if inspect.isawaitable(result):

        async def later() -> Any:
            return mask(kind, await result)

        return later()
    return mask(kind, result)
