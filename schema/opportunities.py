"""Opportunities: the vendor's pipeline. The node, the list, upsert and close."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

import strawberry
from strawberry import relay

from graph.deals import DealRegistration, Opportunity, OpportunityStatus
from resolvers.actor import Permission
from resolvers.deals import opportunities
from resolvers.deals.announce import announce
from resolvers.deals.opportunities import OpportunityInput, OpportunityRowResult
from schema.accounts import AccountNode, load_account
from schema.context import Context, Info
from schema.ids import decode
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

CURSOR_KIND = "opportunities"
strawberry.enum(OpportunityStatus)


@strawberry.type(name="Opportunity", description="A deal in the viewer org's own pipeline.")
class OpportunityNode(relay.Node):
    id: relay.NodeID[str]
    crm_id: str
    name: str
    amount: Decimal
    currency: str
    stage: str
    status: OpportunityStatus
    created_at: datetime
    closed_at: datetime | None
    updated_at: datetime
    _account_id: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: Opportunity) -> Self:
        return cls(
            id=record.id,
            crm_id=record.crm_id,
            name=record.name,
            amount=record.amount,
            currency=record.currency,
            stage=record.stage,
            status=record.status,
            created_at=record.created_at,
            closed_at=record.closed_at,
            updated_at=record.updated_at,
            _account_id=record.account_id,
        )

    @strawberry.field
    async def account(self, info: Info) -> AccountNode | None:
        return await load_account(info, self._account_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        actor = info.context.actor
        actor.require(Permission.READ)
        ids = list(node_ids)
        found = await info.context.loaders.opportunity.load_many([(actor.org_id, i) for i in ids])
        return [cls.from_record(o) if o is not None else None for o in found]


@strawberry.type(name="OpportunityConnection")
class OpportunityConnection(relay.Connection[OpportunityNode]):
    pass


@strawberry.type
class OpportunityQueries:
    @strawberry.field(description="The viewer org's opportunities, in id order.")
    async def opportunities(
        self,
        info: Info,
        status: OpportunityStatus | None = None,
        account_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> OpportunityConnection:
        actor = info.context.actor
        actor.require(Permission.READ)
        size, key, backward = window(CURSOR_KIND, first, after, last, before)
        account = decode(account_id, "Account", field="accountId") if account_id else None
        page = await info.context.store.list_opportunities(
            actor.org_id,
            status=status,
            account_id=account,
            first=size,
            after=key,
            backward=backward,
        )
        edges, page_info = edges_of(CURSOR_KIND, page, OpportunityNode.from_record)
        return OpportunityConnection(edges=edges, page_info=page_info)


@strawberry.input(description="One opportunity, identified by its CRM id.")
class OpportunityRowInput:
    crm_id: str
    account_crm_id: str = strawberry.field(description="The crmId of one of your accounts.")
    name: str
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217, e.g. USD.")
    stage: str
    status: OpportunityStatus
    created_at: datetime = strawberry.field(description="When it was created in your CRM.")
    closed_at: datetime | None = strawberry.field(
        default=None, description="Required for WON and LOST."
    )


@strawberry.input
class UpsertOpportunitiesInput:
    rows: list[OpportunityRowInput]


@strawberry.type(name="OpportunityRowResult")
class OpportunityRowResultType:
    index: int
    crm_id: str
    status: str = strawberry.field(description="CREATED, UPDATED or REJECTED.")
    code: str | None = strawberry.field(description="INVALID, DUPLICATE or UNKNOWN_ACCOUNT.")
    field: str | None
    message: str | None
    _opportunity_id: strawberry.Private[str | None]

    @strawberry.field
    def opportunity_id(self) -> relay.GlobalID | None:
        if self._opportunity_id is None:
            return None
        return relay.GlobalID("Opportunity", self._opportunity_id)

    @classmethod
    def from_result(cls, result: OpportunityRowResult) -> Self:
        return cls(
            index=result.index,
            crm_id=result.crm_id,
            status=result.status.value,
            code=result.code,
            field=result.field,
            message=result.message,
            _opportunity_id=result.opportunity_id,
        )


@strawberry.type
class UpsertOpportunitiesPayload:
    results: list[OpportunityRowResultType]
    settled_registrations: int = strawberry.field(
        description="Deal registrations moved because their opportunity closed."
    )
    errors: list[UserError]


@strawberry.input
class CloseOpportunityInput:
    id: relay.GlobalID
    status: OpportunityStatus = strawberry.field(description="WON or LOST.")
    closed_at: datetime | None = strawberry.field(default=None, description="Default: now.")


@strawberry.type
class CloseOpportunityPayload:
    opportunity: OpportunityNode | None
    settled_registrations: int
    errors: list[UserError]


@strawberry.type
class OpportunityMutations:
    @strawberry.mutation(
        description="Create or replace opportunities by CRM id (a result per row). Closing "
        "one here settles the deal registrations on it, as closeOpportunity does."
    )
    async def upsert_opportunities(
        self, info: Info, input: UpsertOpportunitiesInput
    ) -> UpsertOpportunitiesPayload:
        context = info.context
        rows = [
            OpportunityInput(
                crm_id=r.crm_id,
                account_crm_id=r.account_crm_id,
                name=r.name,
                amount=r.amount,
                currency=r.currency,
                stage=r.stage,
                status=r.status,
                created_at=r.created_at,
                closed_at=r.closed_at,
            )
            for r in input.rows
        ]
        outcome, errors = await attempt(
            opportunities.upsert_opportunities(
                context.store, context.identity, context.actor, rows, now=context.now()
            )
        )
        if outcome is None:
            return UpsertOpportunitiesPayload(results=[], settled_registrations=0, errors=errors)
        await _announce(context, outcome.settled)
        return UpsertOpportunitiesPayload(
            results=[OpportunityRowResultType.from_result(r) for r in outcome.results],
            settled_registrations=len(outcome.settled),
            errors=[],
        )

    @strawberry.mutation(
        description="Close an OPEN opportunity WON or LOST: approved registrations on it "
        "become WON or LOST, those still under review are REJECTED."
    )
    async def close_opportunity(
        self, info: Info, input: CloseOpportunityInput
    ) -> CloseOpportunityPayload:
        context = info.context
        closed, errors = await attempt(
            opportunities.close_opportunity(
                context.store,
                context.identity,
                context.actor,
                decode(input.id, "Opportunity", field="id"),
                input.status,
                input.closed_at,
                now=context.now(),
            )
        )
        if closed is None:
            return CloseOpportunityPayload(opportunity=None, settled_registrations=0, errors=errors)
        opportunity, settled = closed
        await _announce(context, settled)
        return CloseOpportunityPayload(
            opportunity=OpportunityNode.from_record(opportunity),
            settled_registrations=len(settled),
            errors=[],
        )


async def _announce(context: Context, settled: list[DealRegistration]) -> None:
    for registration in settled:
        await announce(context.events, registration, action="SETTLE", now=context.now())
