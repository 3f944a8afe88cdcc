"""The account map with one partner: the overlap matrix and the overlap list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay

from graph.model import AccountFilter, OverlapSort, SharingLevel, SortDirection
from graph.model import OverlapOrder as StoreOrder
from privacy.thresholds import CellView
from resolvers import overlaps
from resolvers.overlaps import OverlapView, PartnerDetails
from schema.accounts import AccountField, AccountNode
from schema.context import Info
from schema.ids import decode, join_key, split_key
from schema.orgs import OrgNode, load_org
from schema.pagination import edges_of, window

CURSOR_KIND = "overlaps"

strawberry.enum(
    OverlapSort,
    name="OverlapSortField",
    description="One of my own account's fields; the account id breaks ties.",
)
strawberry.enum(SortDirection)


@strawberry.input(description="The order of the overlap list; by default my account ids.")
class OverlapOrder:
    field: OverlapSort = OverlapSort.ID
    direction: SortDirection = SortDirection.ASC


@strawberry.input(
    description="Filters on my own accounts (never on the partner's). Name matches ignore "
    "case; owner matches exactly."
)
class OverlapFilter:
    name_starts_with: str | None = None
    name_contains: str | None = None
    owner: str | None = None


@strawberry.type(name="OverlapCell", description="One (my population x partner population) pair.")
class OverlapCellType:
    my_population: str
    partner_population: str
    level: SharingLevel = strawberry.field(description="What the partner shares of theirs.")
    my_count: int | None = strawberry.field(
        description="My accounts in my population that the partner also has; null if suppressed."
    )
    partner_count: int | None = strawberry.field(
        description="The partner's accounts in theirs that I also have; null if suppressed."
    )
    suppressed: bool = strawberry.field(
        description="A COUNTS-only cell over fewer than k accounts, or over a population "
        "that changed since its last answer within the window: not shown, so no single "
        "account's membership can be learned."
    )
    suppressed_reason: str | None

    @classmethod
    def from_view(cls, cell: CellView) -> OverlapCellType:
        return cls(
            my_population=cell.my_population,
            partner_population=cell.partner_population,
            level=cell.level,
            my_count=cell.my_count,
            partner_count=cell.partner_count,
            suppressed=cell.suppressed,
            suppressed_reason=cell.reason,
        )


@strawberry.type
class OverlapMatrix:
    k: int = strawberry.field(description="The suppression threshold for COUNTS cells.")
    cells: list[OverlapCellType]
    _partner_id: strawberry.Private[str]

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner_id)


@strawberry.type(description="What a partner shares at DETAILS level about its matching account.")
class PartnerAccountDetails:
    populations: list[str]
    owner: str | None
    fields: list[AccountField]

    @classmethod
    def from_details(cls, details: PartnerDetails) -> PartnerAccountDetails:
        return cls(
            populations=list(details.populations),
            owner=details.owner,
            fields=[AccountField(name=n, value=v) for n, v in details.fields],
        )


@strawberry.type(
    description="One of my accounts that the partner also has. Its id names the partner, "
    "my account and the partnerPopulation filter of the list it came from; node(id:) "
    "recomputes the row now, null once the list would no longer hold it."
)
class Overlap(relay.Node):
    id: relay.NodeID[str]
    account: AccountNode
    partner_populations: list[str] = strawberry.field(
        description="The partner populations (shared at OVERLAPS or above) it falls in."
    )
    partner_details: list[PartnerAccountDetails]

    @classmethod
    def from_view(cls, view: OverlapView, partner_id: str, partner_population: str | None) -> Self:
        account = view.match.account
        populations = [] if partner_population is None else [partner_population]
        return cls(
            id=join_key(partner_id, account.id, *populations),
            account=AccountNode.from_record(account),
            partner_populations=list(view.partner_populations),
            partner_details=[PartnerAccountDetails.from_details(d) for d in view.details],
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        return [await cls._resolve(info, node_id) for node_id in node_ids]

    @classmethod
    async def _resolve(cls, info: Info, node_id: str) -> Self | None:
        key = split_key(node_id, 2, optional_tail=True)
        if key is None:
            return None
        partner_id, account_id = key[0], key[1]
        population = key[2] if len(key) > 2 else None
        context = info.context
        view = await overlaps.overlap(
            context.store,
            context.identity,
            context.actor,
            partner_id=partner_id,
            account_id=account_id,
            partner_population=population,
            now=context.now(),
        )
        return cls.from_view(view, partner_id, population) if view is not None else None


@strawberry.type(name="OverlapConnection")
class OverlapConnection(relay.Connection[Overlap]):
    pass


@strawberry.type
class OverlapQueries:
    @strawberry.field(description="Overlap counts with an ACTIVE partner, by population.")
    async def overlap_matrix(self, info: Info, partner_id: relay.GlobalID) -> OverlapMatrix:
        context, actor = info.context, info.context.actor
        partner = decode(partner_id, "Org", field="partnerId")
        view = await overlaps.matrix(
            context.store,
            context.identity,
            actor,
            partner_id=partner,
            now=context.now(),
            k=context.overlap_k,
        )
        return OverlapMatrix(
            k=view.k, cells=[OverlapCellType.from_view(c) for c in view.cells], _partner_id=partner
        )

    @strawberry.field(
        description="My accounts that an ACTIVE partner also has, in populations it shares "
        "at OVERLAPS level or above."
    )
    async def overlaps(
        self,
        info: Info,
        partner_id: relay.GlobalID,
        my_population: str | None = None,
        partner_population: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order_by: Annotated[
            OverlapOrder | None,
            strawberry.argument(
                description="Sort by one of my own fields. A cursor works only with the "
                "order that made it (BAD_USER_INPUT otherwise). A missing owner sorts "
                "first ascending, last descending."
            ),
        ] = None,
        filter: OverlapFilter | None = None,
    ) -> OverlapConnection:
        context, actor = info.context, info.context.actor
        partner = decode(partner_id, "Org", field="partnerId")
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        page = await overlaps.overlaps(
            context.store,
            context.identity,
            actor,
            partner_id=partner,
            my_population=my_population,
            partner_population=partner_population,
            first=size,
            after=key,
            backward=backward,
            order=StoreOrder(order_by.field, order_by.direction) if order_by else StoreOrder(),
            where=AccountFilter(filter.name_starts_with, filter.name_contains, filter.owner)
            if filter
            else AccountFilter(),
            now=context.now(),
        )
        edges, page_info = edges_of(
            CURSOR_KIND, page, lambda view: Overlap.from_view(view, partner, partner_population)
        )
        return OverlapConnection(edges=edges, page_info=page_info)
