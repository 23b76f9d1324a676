"""Every request that touched household data appends its audit entry before it answers.

What the request touched is gathered as it runs (``hub.audit.access.AccessLog``, filled
by the household service and the resolvers); when the operation is over, this extension
appends it, and if the entry cannot be written, nothing of the answer is disclosed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from schema.context import Context
from schema.errors import HubError

log = logging.getLogger(__name__)


class Auditing(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        if self.execution_context.operation_type is OperationType.MUTATION:
            context.access.attempted = True  # every mutation is recorded, found or not
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
