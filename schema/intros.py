"""Discovery, introductions, account-level asks and blocks."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.intros import AccountAsk, AskKind, AskStatus, Introduction, IntroStatus
from graph.model import Org, OrgType
from resolvers.actor import Permission
from resolvers.intros import asks, discover, introductions
from resolvers.intros.discovery import Suggestion
from resolvers.intros.rules import AskAction, IntroAction
from schema.accounts import AccountNode
from schema.context import Info
from schema.ids import decode
from schema.orgs import OrgNode, load_org
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

for _enum in (IntroStatus, AskKind, AskStatus):
    strawberry.enum(_enum)


@strawberry.enum(description="The viewer org's part in an introduction.")
class IntroRoleFilter(enum.Enum):
    REQUESTER = "requester"
    TARGET = "target"
    BROKER = "broker"


@strawberry.enum(description="Asks the viewer's org made, or received.")
class AskSideFilter(enum.Enum):
    REQUESTER = "requester"
    PARTNER = "partner"


@strawberry.enum
class IntroductionAnswer(enum.Enum):
    FORWARD = "FORWARD"  # as the broker
    ACCEPT = "ACCEPT"  # as the target
    DECLINE = "DECLINE"  # as the broker or the target


@strawberry.type(
    description="An org discovery suggests: only its public profile. It may be outside "
    "your partnerships (discoverable, or a partner of one of your partners)."
)
class CandidateOrg:
    id: relay.GlobalID
    name: str
    types: list[OrgType]
    region: str


@strawberry.type(
    name="ComplementaryPartner",
    description="A suggested org and why. Its id names the org; node(id:) recomputes "
    "the suggestion now, null once discovery would no longer suggest it.",
)
class ComplementaryPartnerNode(relay.Node):
    id: relay.NodeID[str]
    org: CandidateOrg
    score: int
    overlap_bucket: str | None = strawberry.field(
        description="Shared customers as a range such as 10-49; null when fewer than k."
    )
    shared_partners: int
    co_won_deals: int
    reasons: list[str]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        found: list[Self | None] = []
        for node_id in node_ids:
            # Reads the whole candidate list each time: resolvers/intros/discover.py.
            suggestion = await discover.complementary_partner(
                context.store,
                context.identity,
                context.actor,
                org_id=node_id,
                complements=context.complements,
                k=context.overlap_k,
                now=context.now(),
            )
            org = (
                await context.loaders.org.load(suggestion.org_id)
                if suggestion is not None
                else None
            )
            found.append(cls.from_suggestion(suggestion, org) if suggestion and org else None)
        return found

    @classmethod
    def from_suggestion(cls, suggestion: Suggestion, org: Org) -> Self:
        return cls(
            id=org.id,
            org=CandidateOrg(
                id=relay.GlobalID("Org", org.id),
                name=org.name,
                types=sorted(org.types),
                region=org.region,
            ),
            score=suggestion.score,
            overlap_bucket=suggestion.overlap_bucket,
            shared_partners=suggestion.shared_partners,
            co_won_deals=suggestion.co_won_deals,
            reasons=list(suggestion.reasons),
        )


@strawberry.type(name="ComplementaryPartnerEdge")
class ComplementaryPartnerEdge:
    node: ComplementaryPartnerNode
    cursor: str


@strawberry.type(name="ComplementaryPartnerConnection")
class ComplementaryPartnerConnection:
    edges: list[ComplementaryPartnerEdge]
    page_info: relay.PageInfo


@strawberry.type(name="Introduction", description="A request to be introduced to an org.")
class IntroductionNode(relay.Node):
    id: relay.NodeID[str]
    status: IntroStatus = strawberry.field(description="As of now: expiry applies on read.")
    message: str
    note: str | None = strawberry.field(description="The last answer's note.")
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    forwarded_at: datetime | None
    decided_at: datetime | None
    _record: strawberry.Private[Introduction]

    @classmethod
    def from_record(cls, record: Introduction) -> Self:
        return cls(
            id=record.id,
            status=record.status,
            message=record.message,
            note=record.note,
            created_at=record.created_at,
            updated_at=record.updated_at,
            expires_at=record.expires_at,
            forwarded_at=record.forwarded_at,
            decided_at=record.decided_at,
            _record=record,
        )

    @strawberry.field
    async def requester(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.requester_org)

    @strawberry.field
    async def target(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.target_org)

    @strawberry.field
    async def broker(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.broker_org)

    @strawberry.field(description="The partnership an acceptance created.")
    def partnership_id(self) -> relay.GlobalID | None:
        pid = self._record.partnership_id
        return relay.GlobalID("Partnership", pid) if pid else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        ids = list(node_ids)
        found = await introductions.get(context.store, context.actor, ids, now=context.now())
        return [cls.from_record(found[i]) if i in found else None for i in ids]


@strawberry.type(name="IntroductionConnection")
class IntroductionConnection(relay.Connection[IntroductionNode]):
    pass


@strawberry.type(
    name="AccountAsk",
    description="A rep's ask for help on one account. The requester sees its own account; "
    "the partner sees its own matching accounts, never the requester's record.",
)
class AccountAskNode(relay.Node):
    id: relay.NodeID[str]
    kind: AskKind
    status: AskStatus
    message: str
    note: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    answered_at: datetime | None
    viewer_is_requester: bool
    _record: strawberry.Private[AccountAsk]

    @classmethod
    def from_record(cls, record: AccountAsk, viewer_org: str) -> Self:
        return cls(
            id=record.id,
            kind=record.kind,
            status=record.status,
            message=record.message,
            note=record.note,
            created_at=record.created_at,
            updated_at=record.updated_at,
            expires_at=record.expires_at,
            answered_at=record.answered_at,
            viewer_is_requester=record.requester_org == viewer_org,
            _record=record,
        )

    @strawberry.field
    async def requester(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.requester_org)

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.partner_org)

    @strawberry.field(description="The viewer's own accounts this ask is about.")
    async def my_accounts(self, info: Info) -> list[AccountNode]:
        ids = (
            [self._record.account_id]
            if self.viewer_is_requester
            else list(self._record.partner_account_ids)
        )
        org = info.context.actor.org_id
        found = await info.context.loaders.account.load_many([(org, i) for i in ids])
        return [AccountNode.from_record(a) for a in found if a is not None]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context, actor = info.context, info.context.actor
        ids = list(node_ids)
        found = await asks.get(context.store, actor, ids, now=context.now())
        return [cls.from_record(found[i], actor.org_id) if i in found else None for i in ids]


@strawberry.type(name="AccountAskConnection")
class AccountAskConnection(relay.Connection[AccountAskNode]):
    pass


INTRO_CURSOR, ASK_CURSOR, DISCOVERY_CURSOR = "introductions", "asks", "discovery"


@strawberry.type
class IntroQueries:
    @strawberry.field(
        description="Orgs you do not partner with yet that would complement you, best "
        "first, each with its reasons. Only orgs that opted in to discovery or share an "
        "active partner with you; overlap only as a range, and not below k."
    )
    async def complementary_partners(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ComplementaryPartnerConnection:
        context = info.context
        size, key, backward = window(DISCOVERY_CURSOR, first, after, last, before)
        page = await discover.complementary_partners(
            context.store,
            context.identity,
            context.actor,
            complements=context.complements,
            k=context.overlap_k,
            first=size,
            after=key,
            backward=backward,
            now=context.now(),
        )
        orgs = await context.store.get_orgs([s.org_id for s in page.items])
        edges, page_info = edges_of(
            DISCOVERY_CURSOR,
            page,
            lambda s: ComplementaryPartnerNode.from_suggestion(s, orgs[s.org_id]),
        )
        return ComplementaryPartnerConnection(
            edges=[ComplementaryPartnerEdge(node=e.node, cursor=e.cursor) for e in edges],
            page_info=page_info,
        )

    @strawberry.field(description="Introductions in one of your roles, newest first.")
    async def introductions(
        self,
        info: Info,
        role: IntroRoleFilter,
        status: list[IntroStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> IntroductionConnection:
        context = info.context
        size, key, backward = window(INTRO_CURSOR, first, after, last, before)
        page = await introductions.list_mine(
            context.store,
            context.actor,
            role=role.value,
            statuses=status,
            first=size,
            after=key,
            backward=backward,
            now=context.now(),
        )
        edges, page_info = edges_of(INTRO_CURSOR, page, IntroductionNode.from_record)
        return IntroductionConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Account asks you made or received, newest first.")
    async def account_asks(
        self,
        info: Info,
        side: AskSideFilter,
        status: list[AskStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AccountAskConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(ASK_CURSOR, first, after, last, before)
        page = await asks.list_mine(
            context.store,
            actor,
            side=side.value,
            statuses=status,
            first=size,
            after=key,
            backward=backward,
            now=context.now(),
        )
        edges, page_info = edges_of(
            ASK_CURSOR, page, lambda a: AccountAskNode.from_record(a, actor.org_id)
        )
        return AccountAskConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="Orgs your org blocks from discovery and requests.")
    async def blocked_orgs(self, info: Info) -> list[relay.GlobalID]:
        actor = info.context.actor
        actor.require(Permission.READ)
        ids = await info.context.store.blocked_orgs(actor.org_id)
        return [relay.GlobalID("Org", i) for i in ids]


@strawberry.input
class RequestIntroductionInput:
    target_org_id: relay.GlobalID
    message: str
    broker_org_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A partner of both orgs who forwards it first."
    )


@strawberry.input
class RespondToIntroductionInput:
    id: relay.GlobalID
    answer: IntroductionAnswer
    note: str | None = None


@strawberry.input
class IntroductionIdInput:
    id: relay.GlobalID


@strawberry.input
class AskPartnerInput:
    partner_id: relay.GlobalID
    account_id: relay.GlobalID
    kind: AskKind
    message: str


@strawberry.input
class AnswerAccountAskInput:
    id: relay.GlobalID
    accept: bool
    note: str | None = None


@strawberry.input
class SetOrgBlockInput:
    org_id: relay.GlobalID
    blocked: bool


@strawberry.type
class IntroductionPayload:
    introduction: IntroductionNode | None
    errors: list[UserError]


@strawberry.type
class AccountAskPayload:
    ask: AccountAskNode | None
    errors: list[UserError]


@strawberry.type
class SetOrgBlockPayload:
    changed: bool
    errors: list[UserError]


@strawberry.type
class IntroMutations:
    @strawberry.mutation(description="Ask to be introduced to an org, directly or via a broker.")
    async def request_introduction(
        self, info: Info, input: RequestIntroductionInput
    ) -> IntroductionPayload:
        context, actor = info.context, info.context.actor
        broker = (
            decode(input.broker_org_id, "Org", field="brokerOrgId") if input.broker_org_id else None
        )
        record, errors = await attempt(
            introductions.request(
                context.store,
                context.identity,
                actor,
                target_org=decode(input.target_org_id, "Org", field="targetOrgId"),
                broker_org=broker,
                message=input.message,
                now=context.now(),
                policy=context.intro_policy,
                events=context.events,
            )
        )
        return IntroductionPayload(
            introduction=IntroductionNode.from_record(record) if record else None, errors=errors
        )

    @strawberry.mutation(
        description="As the broker: FORWARD or DECLINE. As the target: ACCEPT (creates an "
        "ACTIVE partnership, everything HIDDEN until shared) or DECLINE."
    )
    async def respond_to_introduction(
        self, info: Info, input: RespondToIntroductionInput
    ) -> IntroductionPayload:
        context, actor = info.context, info.context.actor
        introduction_id = decode(input.id, "Introduction", field="id")
        action = await _intro_action(info, introduction_id, input.answer)
        record, errors = await attempt(
            introductions.respond(
                context.store,
                context.identity,
                actor,
                introduction_id,
                action=action,
                note=input.note,
                now=context.now(),
                events=context.events,
            )
        )
        return IntroductionPayload(
            introduction=IntroductionNode.from_record(record) if record else None, errors=errors
        )

    @strawberry.mutation(description="As the requester: withdraw an open request.")
    async def withdraw_introduction(
        self, info: Info, input: IntroductionIdInput
    ) -> IntroductionPayload:
        context = info.context
        record, errors = await attempt(
            introductions.respond(
                context.store,
                context.identity,
                context.actor,
                decode(input.id, "Introduction", field="id"),
                action=IntroAction.WITHDRAW,
                note=None,
                now=context.now(),
                events=context.events,
            )
        )
        return IntroductionPayload(
            introduction=IntroductionNode.from_record(record) if record else None, errors=errors
        )

    @strawberry.mutation(
        description="Ask an ACTIVE partner for help on one of your accounts that it shares "
        "an overlap on at OVERLAPS or DETAILS."
    )
    async def ask_partner(self, info: Info, input: AskPartnerInput) -> AccountAskPayload:
        context, actor = info.context, info.context.actor
        record, errors = await attempt(
            asks.ask(
                context.store,
                context.identity,
                actor,
                partner_org=decode(input.partner_id, "Org", field="partnerId"),
                account_id=decode(input.account_id, "Account", field="accountId"),
                kind=input.kind,
                message=input.message,
                now=context.now(),
                policy=context.intro_policy,
                events=context.events,
            )
        )
        node = AccountAskNode.from_record(record, actor.org_id) if record else None
        return AccountAskPayload(ask=node, errors=errors)

    @strawberry.mutation(description="As the partner asked: accept or decline, with a note.")
    async def answer_account_ask(
        self, info: Info, input: AnswerAccountAskInput
    ) -> AccountAskPayload:
        return await _move_ask(
            info, input.id, AskAction.ACCEPT if input.accept else AskAction.DECLINE, input.note
        )

    @strawberry.mutation(description="As the requester: withdraw an open ask.")
    async def withdraw_account_ask(
        self, info: Info, input: IntroductionIdInput
    ) -> AccountAskPayload:
        return await _move_ask(info, input.id, AskAction.WITHDRAW, None)

    @strawberry.mutation(description="Block (or unblock) an org from your discovery and requests.")
    async def set_org_block(self, info: Info, input: SetOrgBlockInput) -> SetOrgBlockPayload:
        context, actor = info.context, info.context.actor
        changed, errors = await attempt(
            introductions.set_block(
                context.store,
                context.identity,
                actor,
                decode(input.org_id, "Org", field="orgId"),
                blocked=input.blocked,
                now=context.now(),
            )
        )
        return SetOrgBlockPayload(changed=bool(changed), errors=errors)


async def _intro_action(
    info: Info, introduction_id: str, answer: IntroductionAnswer
) -> IntroAction:
    """DECLINE means the broker's decline when the viewer brokers a request still with it."""
    if answer is IntroductionAnswer.FORWARD:
        return IntroAction.FORWARD
    if answer is IntroductionAnswer.ACCEPT:
        return IntroAction.ACCEPT
    context = info.context
    found = await introductions.get(
        context.store, context.actor, [introduction_id], now=context.now()
    )
    current = found.get(introduction_id)
    if current is not None and current.broker_org == context.actor.org_id:
        return IntroAction.BROKER_DECLINE
    return IntroAction.DECLINE


async def _move_ask(
    info: Info, gid: relay.GlobalID, action: AskAction, note: str | None
) -> AccountAskPayload:
    context, actor = info.context, info.context.actor  # unauthenticated before bad input
    ask_id = decode(gid, "AccountAsk", field="id")
    record, errors = await attempt(
        asks.move(
            context.store,
            context.identity,
            actor,
            ask_id,
            action=action,
            note=note,
            now=context.now(),
            events=context.events,
        )
    )
    node = AccountAskNode.from_record(record, actor.org_id) if record else None
    return AccountAskPayload(ask=node, errors=errors)
