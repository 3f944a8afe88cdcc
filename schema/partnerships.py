"""Partnerships: the node, the viewer's list, and the mutations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.model import Partnership, PartnershipStatus
from resolvers import partnerships
from schema.context import Info
from schema.ids import decode
from schema.orgs import OrgNode, load_org
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

CURSOR_KIND = "partnerships"


@strawberry.type(name="Partnership", description="A partnership between two orgs.")
class PartnershipNode(relay.Node):
    id: relay.NodeID[str]
    status: PartnershipStatus
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    _record: strawberry.Private[Partnership]
    _viewer_org: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: Partnership, viewer_org: str) -> Self:
        return cls(
            id=record.id,
            status=record.status,
            created_at=record.created_at,
            updated_at=record.updated_at,
            activated_at=record.activated_at,
            ended_at=record.ended_at,
            _record=record,
            _viewer_org=viewer_org,
        )

    @strawberry.field(description="The org that sent the invitation.")
    async def inviter(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.inviter_id)

    @strawberry.field(description="The org that was invited.")
    async def invitee(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.invitee_id)

    @strawberry.field(description="The other org, seen from the viewer.")
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.other(self._viewer_org))

    @strawberry.field(description="Which side ended it, once ENDED.")
    async def ended_by(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.ended_by)

    @strawberry.field(description="True when the viewer is the invited side and may answer.")
    def awaiting_my_answer(self) -> bool:
        return (
            self._record.status is PartnershipStatus.INVITED
            and self._record.invitee_id == self._viewer_org
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        actor = info.context.actor
        ids = list(node_ids)
        found = await info.context.store.get_partnerships(actor.org_id, ids)
        return [cls.from_record(found[i], actor.org_id) if i in found else None for i in ids]


@strawberry.type(name="PartnershipConnection")
class PartnershipConnection(relay.Connection[PartnershipNode]):
    pass


@strawberry.type
class PartnershipQueries:
    @strawberry.field(description="The viewer org's partnerships, newest first.")
    async def partnerships(
        self,
        info: Info,
        status: PartnershipStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PartnershipConnection:
        actor = info.context.actor
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        page = await partnerships.list_mine(
            info.context.store, actor, status=status, first=size, after=key, backward=backward
        )
        edges, page_info = edges_of(
            CURSOR_KIND, page, lambda p: PartnershipNode.from_record(p, actor.org_id)
        )
        return PartnershipConnection(edges=edges, page_info=page_info)


@strawberry.input
class InvitePartnerInput:
    org_id: relay.GlobalID


@strawberry.input
class RespondToPartnershipInput:
    partnership_id: relay.GlobalID
    accept: bool


@strawberry.input
class EndPartnershipInput:
    partnership_id: relay.GlobalID


@strawberry.type
class PartnershipPayload:
    partnership: PartnershipNode | None
    errors: list[UserError]


@strawberry.type
class PartnershipMutations:
    @strawberry.mutation(
        description="Invite an org to partner; it answers with respondToPartnership."
    )
    async def invite_partner(self, info: Info, input: InvitePartnerInput) -> PartnershipPayload:
        context, actor = info.context, info.context.actor
        org_id = decode(input.org_id, "Org", field="orgId")
        record, errors = await attempt(
            partnerships.invite(
                context.store, context.identity, actor, org_id=org_id, now=context.now()
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="Accept or decline an invitation sent to the viewer's org.")
    async def respond_to_partnership(
        self, info: Info, input: RespondToPartnershipInput
    ) -> PartnershipPayload:
        context, actor = info.context, info.context.actor
        pid = decode(input.partnership_id, "Partnership", field="partnershipId")
        record, errors = await attempt(
            partnerships.respond(
                context.store,
                context.identity,
                actor,
                partnership_id=pid,
                accept=input.accept,
                now=context.now(),
            )
        )
        return _payload(record, errors, actor.org_id)

    @strawberry.mutation(description="End a partnership (or withdraw a pending invitation).")
    async def end_partnership(self, info: Info, input: EndPartnershipInput) -> PartnershipPayload:
        context, actor = info.context, info.context.actor
        pid = decode(input.partnership_id, "Partnership", field="partnershipId")
        record, errors = await attempt(
            partnerships.end(
                context.store, context.identity, actor, partnership_id=pid, now=context.now()
            )
        )
        return _payload(record, errors, actor.org_id)


def _payload(
    record: Partnership | None, errors: list[UserError], viewer_org: str
) -> PartnershipPayload:
    node = PartnershipNode.from_record(record, viewer_org) if record is not None else None
    return PartnershipPayload(partnership=node, errors=errors)
