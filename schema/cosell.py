"""Co-selling across every ACTIVE partner: ranked accounts and partner recommendations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.model import SharingLevel
from resolvers import cosell
from resolvers.cosell import CoSellAccount, PartnerPresence, Recommendation
from schema.accounts import AccountNode
from schema.context import Info
from schema.ids import decode, join_key, split_key
from schema.orgs import OrgNode, load_org
from schema.overlaps import PartnerAccountDetails
from schema.pagination import edges_of, window

ACCOUNTS_CURSOR = "cosell"
RECOMMENDATIONS_CURSOR = "cosell-recommendations"


@strawberry.type(description="One ACTIVE partner's presence on one of my accounts.")
class CoSellPartner:
    populations: list[str] = strawberry.field(
        description="The partner populations holding the account; only those shared with "
        "me at OVERLAPS or DETAILS."
    )
    level: SharingLevel = strawberry.field(
        description="The highest level the partner shares those populations at."
    )
    details: list[PartnerAccountDetails] = strawberry.field(
        description="The partner's matching accounts shared at DETAILS, with the granted "
        "fields only."
    )
    _partner_id: strawberry.Private[str]

    @strawberry.field
    async def org(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner_id)

    @classmethod
    def from_presence(cls, presence: PartnerPresence) -> CoSellPartner:
        return cls(
            populations=list(presence.populations),
            level=presence.level,
            details=[PartnerAccountDetails.from_details(d) for d in presence.details],
            _partner_id=presence.partner_id,
        )


@strawberry.type(
    name="CoSellAccount",
    description="One of my accounts that partners also have. Its id names my account; "
    "node(id:) recomputes the row now, null once no ACTIVE partner shares it with me.",
)
class CoSellAccountType(relay.Node):
    id: relay.NodeID[str]
    account: AccountNode
    score: int = strawberry.field(
        description="Partner presence: the weight of each partner population holding the "
        "account (CUSTOMER 3, OPEN_OPPORTUNITY 2, PROSPECT 1, CHURNED 0, custom 1), summed "
        "over partners."
    )
    partners: list[CoSellPartner]

    @classmethod
    def from_record(cls, item: CoSellAccount) -> Self:
        return cls(
            id=item.account.id,
            account=AccountNode.from_record(item.account),
            score=item.score,
            partners=[CoSellPartner.from_presence(p) for p in item.partners],
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        found: list[Self | None] = []
        for node_id in node_ids:
            item = await cosell.account(
                context.store,
                context.identity,
                context.actor,
                account_id=node_id,
                now=context.now(),
            )
            found.append(cls.from_record(item) if item is not None else None)
        return found


@strawberry.type(name="CoSellAccountConnection")
class CoSellAccountConnection(relay.Connection[CoSellAccountType]):
    pass


@strawberry.type(
    description="An ACTIVE partner suggested for one of my accounts, and why. Its id names "
    "my account and the partner; node(id:) recomputes the row now, null once the "
    "partnership is no longer ACTIVE."
)
class PartnerRecommendation(relay.Node):
    id: relay.NodeID[str]
    score: int
    reasons: list[str] = strawberry.field(description="Each signal considered, in plain words.")
    _partner_id: strawberry.Private[str]

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner_id)

    @classmethod
    def from_record(cls, item: Recommendation, account_id: str) -> Self:
        return cls(
            id=join_key(account_id, item.partner_id),
            score=item.score,
            reasons=list(item.reasons),
            _partner_id=item.partner_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        return [await cls._resolve(info, node_id) for node_id in node_ids]

    @classmethod
    async def _resolve(cls, info: Info, node_id: str) -> Self | None:
        key = split_key(node_id, 2)
        if key is None:
            return None
        account_id, partner_id = key
        context = info.context
        item = await cosell.recommendation(
            context.store,
            context.identity,
            context.actor,
            account_id=account_id,
            partner_id=partner_id,
            now=context.now(),
        )
        return cls.from_record(item, account_id) if item is not None else None


@strawberry.type(name="PartnerRecommendationConnection")
class PartnerRecommendationConnection(relay.Connection[PartnerRecommendation]):
    pass


@strawberry.type
class CoSellQueries:
    @strawberry.field(
        description="My accounts that ACTIVE partners also have, in populations shared with "
        "me at OVERLAPS or above, highest score first (ties by account id)."
    )
    async def co_sell_accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        min_score: int | None = None,
    ) -> CoSellAccountConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(ACCOUNTS_CURSOR, first, after, last, before)
        page = await cosell.accounts(
            context.store,
            context.identity,
            actor,
            first=size,
            after=key,
            backward=backward,
            min_score=min_score,
            now=context.now(),
        )
        edges, page_info = edges_of(ACCOUNTS_CURSOR, page, CoSellAccountType.from_record)
        return CoSellAccountConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="My ACTIVE partners ranked for one of my accounts (lead routing), "
        "highest score first, each with its reasons."
    )
    async def recommend_partners_for_account(
        self,
        info: Info,
        account_id: relay.GlobalID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PartnerRecommendationConnection:
        context, actor = info.context, info.context.actor
        account = decode(account_id, "Account", field="accountId")
        size, key, backward = window(RECOMMENDATIONS_CURSOR, first, after, last, before)
        page = await cosell.recommend_partners(
            context.store,
            context.identity,
            actor,
            account_id=account,
            first=size,
            after=key,
            backward=backward,
            now=context.now(),
        )
        edges, page_info = edges_of(
            RECOMMENDATIONS_CURSOR, page, lambda r: PartnerRecommendation.from_record(r, account)
        )
        return PartnerRecommendationConnection(edges=edges, page_info=page_info)
