"""Expected failures live in mutation payloads as typed `UserError`s."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry

from graph.errors import BadInput, Conflict

T = TypeVar("T")


@strawberry.type(description="An expected failure: invalid input or a rule that said no.")
class UserError:
    code: str = strawberry.field(description="BAD_USER_INPUT or CONFLICT.")
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    message: str


async def attempt(work: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    """Run a mutation's service call; BadInput and Conflict become payload errors, and
    everything else (auth, not found, outages) stays a GraphQL error."""
    try:
        return await work, []
    except (BadInput, Conflict) as error:
        return None, [UserError(code=error.code, field=error.field, message=error.message)]
