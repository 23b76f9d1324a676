"""The executor of an operation: Strawberry's, letting go of the request when it ends.

graphql-core's executor keeps helpers bound to itself (``async_helpers``), a reference
cycle; everything the request reached through it (its context, loaders, the households
and department records it read) would then wait for the cyclic garbage collector, some
five hundred objects per full household view, where reference counting frees them the
moment the answer is built. The collector's passes over that backlog cost a tenth of the
hub's CPU under load.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Executor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        result = super().execute_operation(*args, **kwargs)
        if self.is_awaitable(result):
            return self._released_after(result)
        self._release()
        return result

    async def _released_after(self, result: Any) -> Any:
        try:
            return await result
        finally:
            self._release()

    def _release(self) -> None:
        # The resolvers that ran hold the helpers they were given; none run after this.
        self.__dict__.pop("async_helpers", None)
