"""Touches, influence paths and attribution."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay

from graph.touches import InfluencePath, Touch, TouchKind, TouchStatus
from resolvers.actor import Permission
from resolvers.attribution import AttributionConfig, AttributionModel
from resolvers.influence import reports, touches
from resolvers.influence.reports import PartnerRow
from resolvers.influence.touches import TouchInput, TouchRowResult
from schema.context import Info
from schema.ids import decode
from schema.orgs import OrgNode, load_org
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

for _enum in (TouchKind, TouchStatus, AttributionModel):
    strawberry.enum(_enum)
TOUCH_CURSOR = "touches"


@strawberry.enum(description="Touches the viewer's org recorded on its pipeline, or received.")
class TouchSideFilter(enum.Enum):
    VENDOR = "vendor"
    PARTNER = "partner"


@strawberry.type(name="Touch", description="A partner's influence on a vendor's deal.")
class TouchNode(relay.Node):
    id: relay.NodeID[str]
    external_id: str
    kind: TouchKind
    at: datetime
    weight: Decimal
    status: TouchStatus
    created_at: datetime
    _record: strawberry.Private[Touch]
    _viewer_org: strawberry.Private[str]

    @classmethod
    def from_record(cls, record: Touch, viewer_org: str) -> Self:
        return cls(
            id=record.id,
            external_id=record.external_id,
            kind=record.kind,
            at=record.at,
            weight=record.weight,
            status=record.status,
            created_at=record.created_at,
            _record=record,
            _viewer_org=viewer_org,
        )

    @strawberry.field
    async def vendor(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.vendor_org)

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._record.partner_org)

    @strawberry.field(description="The vendor's account; null for the partner.")
    def account_id(self) -> relay.GlobalID | None:
        if self._viewer_org != self._record.vendor_org:
            return None
        return relay.GlobalID("Account", self._record.account_id)

    @strawberry.field(description="The vendor's opportunity; null for the partner.")
    def opportunity_id(self) -> relay.GlobalID | None:
        if self._viewer_org != self._record.vendor_org or not self._record.opportunity_id:
            return None
        return relay.GlobalID("Opportunity", self._record.opportunity_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        actor = info.context.actor
        actor.require(Permission.READ)
        ids = list(node_ids)
        found = await info.context.store.get_touches(actor.org_id, ids)
        return [cls.from_record(found[i], actor.org_id) if i in found else None for i in ids]


@strawberry.type(name="TouchConnection")
class TouchConnection(relay.Connection[TouchNode]):
    pass


@strawberry.type
class InfluenceStep:
    kind: TouchKind
    at: datetime
    weight: Decimal
    _partner: strawberry.Private[str]
    _target: strawberry.Private[str | None]

    @strawberry.field(description="The org that acted.")
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner)

    @strawberry.field(description="The org it introduced; null when it touched the deal.")
    async def introduced(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._target)


@strawberry.type
class InfluencePathType:
    hops: int
    steps: list[InfluenceStep]

    @classmethod
    def from_record(cls, path: InfluencePath) -> Self:
        return cls(
            hops=path.hops,
            steps=[
                InfluenceStep(
                    kind=s.kind,
                    at=s.at,
                    weight=s.weight,
                    _partner=s.partner_org,
                    _target=s.target_org,
                )
                for s in path.steps
            ],
        )


@strawberry.type
class PartnerCredit:
    share: Decimal = strawberry.field(description="Of the amount; shares sum to exactly 1.")
    amount: Decimal = strawberry.field(description="Amounts sum to exactly the deal amount.")
    _partner: strawberry.Private[str]

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner)


@strawberry.type
class OpportunityAttribution:
    model: AttributionModel
    amount: Decimal
    currency: str
    credits: list[PartnerCredit]


@strawberry.type
class PartnerAttributionRow:
    currency: str
    sourced_revenue: Decimal
    influenced_revenue: Decimal
    attributed_revenue: Decimal
    won_deals: int
    closed_deals: int
    average_deal_size: Decimal | None
    win_rate: Decimal | None = strawberry.field(description="Won / closed, with the partner.")
    win_rate_without: Decimal | None = strawberry.field(
        description="Won / closed among the vendor's deals without the partner."
    )
    _partner: strawberry.Private[str]

    @strawberry.field
    async def partner(self, info: Info) -> OrgNode | None:
        return await load_org(info, self._partner)

    @classmethod
    def from_row(cls, row: PartnerRow, without: Decimal | None) -> Self:
        return cls(
            currency=row.currency,
            sourced_revenue=row.sourced_revenue,
            influenced_revenue=row.influenced_revenue,
            attributed_revenue=row.attributed_revenue,
            won_deals=row.won_deals,
            closed_deals=row.closed_deals,
            average_deal_size=_places(row.average_deal_size),
            win_rate=_places(row.win_rate, 4),
            win_rate_without=_places(without, 4),
            _partner=row.partner_org,
        )


@strawberry.type
class PartnerAttributionReport:
    model: AttributionModel
    closed_deals: int
    won_deals: int
    rows: list[PartnerAttributionRow]


@strawberry.input(description="Model settings; left out, the documented defaults.")
class AttributionSettingsInput:
    window_days: int | None = None
    hop_decay: Decimal | None = None
    half_life_days: Decimal | None = None


@strawberry.type
class InfluenceQueries:
    @strawberry.field(description="Touches on your pipeline (VENDOR) or that you made.")
    async def touches(
        self,
        info: Info,
        side: TouchSideFilter,
        status: list[TouchStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> TouchConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(TOUCH_CURSOR, first, after, last, before)
        page = await touches.list_mine(
            context.store,
            actor,
            side=side.value,
            statuses=status,
            first=size,
            after=key,
            backward=backward,
        )
        edges, page_info = edges_of(
            TOUCH_CURSOR, page, lambda t: TouchNode.from_record(t, actor.org_id)
        )
        return TouchConnection(edges=edges, page_info=page_info)

    @strawberry.field(
        description="Every path from a partner to one of your opportunities within the "
        "attribution window: direct touches and chains of introductions (maxHops <= 5)."
    )
    async def influence_paths(
        self,
        info: Info,
        opportunity_id: relay.GlobalID,
        max_hops: int = reports.DEFAULT_HOPS,
        settings: AttributionSettingsInput | None = None,
    ) -> list[InfluencePathType]:
        context, actor = info.context, info.context.actor
        _, paths = await reports.influence_paths(
            context.store,
            actor,
            decode(opportunity_id, "Opportunity", field="opportunityId"),
            max_hops=max_hops,
            config=_config(settings),
            now=context.now(),
        )
        return [InfluencePathType.from_record(p) for p in paths]

    @strawberry.field(description="Each partner's credit for one of your opportunities.")
    async def attribution(
        self,
        info: Info,
        opportunity_id: relay.GlobalID,
        model: AttributionModel,
        settings: AttributionSettingsInput | None = None,
    ) -> OpportunityAttribution:
        context, actor = info.context, info.context.actor
        _, result = await reports.attribution(
            context.store,
            actor,
            decode(opportunity_id, "Opportunity", field="opportunityId"),
            model=model,
            config=_config(settings),
            now=context.now(),
        )
        return OpportunityAttribution(
            model=result.model,
            amount=result.amount,
            currency=result.currency,
            credits=[
                PartnerCredit(share=c.share, amount=c.amount, _partner=c.partner_org)
                for c in result.credits
            ],
        )

    @strawberry.field(
        description="Per partner, over a vendor's deals closed in [from, to): sourced, "
        "influenced and attributed revenue, won deals, average size, win rate with and "
        "without the partner. Your own deals by default; as a partner, pass vendorId to "
        "see your own row of that vendor's report."
    )
    async def partner_attribution(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        model: AttributionModel = AttributionModel.LINEAR,
        vendor_id: relay.GlobalID | None = None,
        settings: AttributionSettingsInput | None = None,
    ) -> PartnerAttributionReport:
        context, actor = info.context, info.context.actor
        report = await reports.partner_attribution(
            context.store,
            context.identity,
            actor,
            vendor_org=decode(vendor_id, "Org", field="vendorId") if vendor_id else None,
            closed_from=from_,
            closed_to=to,
            model=model,
            config=_config(settings),
            now=context.now(),
        )
        return PartnerAttributionReport(
            model=report.model,
            closed_deals=report.closed_deals,
            won_deals=report.won_deals,
            rows=[
                PartnerAttributionRow.from_row(r, report.win_rate_without.get(r.partner_org))
                for r in report.rows
            ],
        )


@strawberry.input(
    description="One touch. As the vendor: partnerId and accountId or opportunityId (your "
    "own). As a partner: registrationId (one of your deal registrations); such touches "
    "stay PENDING until the vendor confirms them."
)
class TouchRowInput:
    external_id: str
    kind: TouchKind
    at: datetime
    weight: Decimal | None = None
    partner_id: relay.GlobalID | None = None
    account_id: relay.GlobalID | None = None
    opportunity_id: relay.GlobalID | None = None
    registration_id: relay.GlobalID | None = None


@strawberry.input
class RecordTouchesInput:
    touches: list[TouchRowInput]


@strawberry.type(name="TouchRowResult")
class TouchRowResultType:
    index: int
    external_id: str
    status: str = strawberry.field(description="RECORDED or REJECTED.")
    created: bool
    code: str | None
    field: str | None
    message: str | None
    _touch_id: strawberry.Private[str | None]

    @strawberry.field
    def touch_id(self) -> relay.GlobalID | None:
        return relay.GlobalID("Touch", self._touch_id) if self._touch_id else None

    @classmethod
    def from_result(cls, r: TouchRowResult) -> Self:
        return cls(
            index=r.index,
            external_id=r.external_id,
            status=r.status.value,
            created=r.created,
            code=r.code,
            field=r.field,
            message=r.message,
            _touch_id=r.touch_id,
        )


@strawberry.type
class RecordTouchesPayload:
    results: list[TouchRowResultType]
    errors: list[UserError]


@strawberry.input
class ConfirmTouchesInput:
    ids: list[relay.GlobalID]
    confirm: bool = True


@strawberry.type
class ConfirmTouchesPayload:
    touches: list[TouchNode]
    errors: list[UserError]


@strawberry.type
class InfluenceMutations:
    @strawberry.mutation(description="Record touches, idempotently by externalId.")
    async def record_touches(self, info: Info, input: RecordTouchesInput) -> RecordTouchesPayload:
        context, actor = info.context, info.context.actor
        rows = [
            TouchInput(
                external_id=t.external_id,
                kind=t.kind,
                at=t.at,
                weight=t.weight,
                partner_org=decode(t.partner_id, "Org", field="partnerId")
                if t.partner_id
                else None,
                account_id=decode(t.account_id, "Account", field="accountId")
                if t.account_id
                else None,
                opportunity_id=decode(t.opportunity_id, "Opportunity", field="opportunityId")
                if t.opportunity_id
                else None,
                registration_id=decode(
                    t.registration_id, "DealRegistration", field="registrationId"
                )
                if t.registration_id
                else None,
            )
            for t in input.touches
        ]
        results, errors = await attempt(
            touches.record(context.store, context.identity, actor, rows, now=context.now())
        )
        return RecordTouchesPayload(
            results=[TouchRowResultType.from_result(r) for r in results or []], errors=errors
        )

    @strawberry.mutation(description="Vendor: confirm (or reject) touches partners recorded.")
    async def confirm_touches(
        self, info: Info, input: ConfirmTouchesInput
    ) -> ConfirmTouchesPayload:
        context, actor = info.context, info.context.actor
        ids = [decode(g, "Touch", field="ids") for g in input.ids]
        moved, errors = await attempt(
            touches.confirm(
                context.store,
                context.identity,
                actor,
                ids,
                accept=input.confirm,
                now=context.now(),
            )
        )
        return ConfirmTouchesPayload(
            touches=[TouchNode.from_record(t, actor.org_id) for t in moved or []], errors=errors
        )


def _config(settings: AttributionSettingsInput | None) -> AttributionConfig:
    if settings is None:
        return AttributionConfig()
    return reports.build_config(
        window_days=settings.window_days,
        hop_decay=settings.hop_decay,
        half_life_days=settings.half_life_days,
    )


def _maybe(gid: relay.GlobalID | None, type_name: str, field: str) -> str | None:
    return decode(gid, type_name, field=field) if gid is not None else None


def _places(value: Decimal | None, places: int = 2) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(1).scaleb(-places))
