"""The append-only audit log: who did what, when, from where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graph.identity import AuditEntry, IdentityStore
from graph.model import Page
from resolvers.actor import Actor, Permission
from resolvers.ids import new_id


async def record(
    identity: IdentityStore,
    actor: Actor,
    action: str,
    *,
    now: datetime,
    target_type: str | None = None,
    target_id: str | None = None,
    **details: str,
) -> None:
    await identity.append_audit(
        AuditEntry(
            id=new_id(),
            at=now,
            org_id=actor.org_id,
            action=action,
            actor_user_id=actor.user_id,
            actor_token_id=actor.token_id,
            target_type=target_type,
            target_id=target_id,
            client_address=actor.client_address,
            details=details,
        )
    )


async def read_log(
    identity: IdentityStore, actor: Actor, *, first: int, after: str | None, backward: bool = False
) -> Page[AuditEntry]:
    actor.require(Permission.READ_AUDIT)
    return await identity.audit_log(actor.org_id, first=first, after=after, backward=backward)


async def get_entries(
    identity: IdentityStore, actor: Actor, ids: Sequence[str]
) -> dict[str, AuditEntry]:
    """The org's entries among `ids`, by id (ADMIN only, as read_log); another org's entry
    is absent, exactly like a missing one."""
    actor.require(Permission.READ_AUDIT)
    return await identity.audit_entries_by_id(actor.org_id, ids)
