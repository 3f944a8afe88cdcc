"""The org's audit log, for its ADMINs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graph.identity import AuditEntry
from resolvers import audit
from schema.context import Info
from schema.ids import encode
from schema.pagination import edges_of, window

CURSOR_KIND = "audit"


@strawberry.type(name="AuditEntry", description="One recorded action. Append-only.")
class AuditEntryType(relay.Node):
    id: relay.NodeID[str]
    at: datetime
    action: str
    actor_user_id: relay.GlobalID | None
    actor_token_id: relay.GlobalID | None
    target_type: str | None
    target_id: relay.GlobalID | None
    client_address: str | None
    details: JSON

    @classmethod
    def from_record(cls, entry: AuditEntry) -> Self:
        return cls(
            id=entry.id,
            at=entry.at,
            action=entry.action,
            actor_user_id=encode("User", entry.actor_user_id) if entry.actor_user_id else None,
            actor_token_id=(
                encode("ApiToken", entry.actor_token_id) if entry.actor_token_id else None
            ),
            target_type=entry.target_type,
            target_id=(
                encode(entry.target_type, entry.target_id)
                if entry.target_type and entry.target_id
                else None
            ),
            client_address=entry.client_address,
            details=cast(JSON, dict(entry.details)),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        """Entries of the viewer's org, for its ADMINs only, as the auditLog list."""
        context = info.context
        ids = list(node_ids)
        found = await audit.get_entries(context.identity, context.actor, ids)
        return [cls.from_record(found[i]) if i in found else None for i in ids]


@strawberry.type(name="AuditEntryConnection")
class AuditEntryConnection(relay.Connection[AuditEntryType]):
    pass


@strawberry.type
class AuditQueries:
    @strawberry.field(description="The acting org's audit log, newest first (ADMIN only).")
    async def audit_log(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AuditEntryConnection:
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        page = await audit.read_log(
            info.context.identity, info.context.actor, first=size, after=key, backward=backward
        )
        edges, page_info = edges_of(CURSOR_KIND, page, AuditEntryType.from_record)
        return AuditEntryConnection(edges=edges, page_info=page_info)
