"""Influence paths, one deal's attribution, and the vendor's partner report.

The store finds the paths (the same ones on every backend); the models in
resolvers.attribution turn them into credit. A vendor sees everything about its own
deals; a partner sees only its own row of a vendor's report, never other partners'
touches or credit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from iso4217 import Currency

from graph.deals import DealRegistration, DealStatus, Opportunity, OpportunityStatus
from graph.errors import BadInput, NotFound
from graph.identity import IdentityStore
from graph.port import GraphStore
from graph.touches import InfluencePath
from resolvers import audit
from resolvers.actor import Actor, Permission
from resolvers.attribution import (
    Attribution,
    AttributionConfig,
    AttributionModel,
    ClosedDeal,
    History,
    attribute,
    paths_in_window,
)
from resolvers.timestamps import in_range

DEFAULT_HOPS = 3
MAX_HOPS = 5
BATCH = 1_000
CACHE_DEALS = 20_000  # closed deals a SHAPLEY/MARKOV report keeps from its first pass
MAX_REPORT_DAYS = 366 * 3
# A registration that was approved at some point (it may have closed or expired since).
APPROVED_ONCE = frozenset(
    {DealStatus.APPROVED, DealStatus.WON, DealStatus.LOST, DealStatus.EXPIRED}
)


def build_config(
    *,
    window_days: int | None = None,
    hop_decay: Decimal | None = None,
    half_life_days: Decimal | None = None,
) -> AttributionConfig:
    """The model settings a caller asked for, validated; None keeps the default."""
    defaults = AttributionConfig()
    window = defaults.window_days if window_days is None else window_days
    if not 0 <= window <= MAX_REPORT_DAYS:
        raise BadInput(f"windowDays must be between 0 and {MAX_REPORT_DAYS}", field="windowDays")
    decay = defaults.hop_decay if hop_decay is None else hop_decay
    if not decay.is_finite() or not 0 <= decay <= 1:
        raise BadInput("hopDecay must be between 0 and 1", field="hopDecay")
    half_life = defaults.half_life_days if half_life_days is None else half_life_days
    if not half_life.is_finite() or half_life <= 0:
        raise BadInput("halfLifeDays must be positive", field="halfLifeDays")
    return AttributionConfig(window_days=window, hop_decay=decay, half_life_days=half_life)


def exponent_of(currency: str) -> int:
    try:
        found = Currency(currency).exponent
    except ValueError:
        return 2
    return 2 if found is None else found


async def influence_paths(
    graph: GraphStore,
    actor: Actor,
    opportunity_id: str,
    *,
    max_hops: int = DEFAULT_HOPS,
    config: AttributionConfig,
    now: datetime,
) -> tuple[Opportunity, list[InfluencePath]]:
    """The paths from partners to one of the vendor's own opportunities."""
    actor.require(Permission.READ)
    if not 0 <= max_hops <= MAX_HOPS:
        raise BadInput(f"maxHops must be between 0 and {MAX_HOPS}", field="maxHops")
    found = (await graph.get_opportunities(actor.org_id, [opportunity_id])).get(opportunity_id)
    if found is None:
        raise NotFound("no such opportunity")
    paths = await graph.influence_paths(
        actor.org_id,
        [found.id],
        max_hops=max_hops,
        window=timedelta(days=config.window_days),
        now=now,
    )
    return found, paths.get(found.id, [])


async def attribution(
    graph: GraphStore,
    actor: Actor,
    opportunity_id: str,
    *,
    model: AttributionModel,
    config: AttributionConfig,
    now: datetime,
) -> tuple[Opportunity, Attribution]:
    opportunity, paths = await influence_paths(graph, actor, opportunity_id, config=config, now=now)
    close_at = opportunity.closed_at or now
    history = None
    if model in (AttributionModel.SHAPLEY, AttributionModel.MARKOV):
        # The vendor's own closed deals of the year before this one's close.
        deals = [
            deal
            async for _, deal, _ in _closed_deals(
                graph,
                actor.org_id,
                closed_from=close_at - timedelta(days=365),
                closed_to=close_at + timedelta(microseconds=1),
                config=config,
                now=now,
            )
        ]
        history = History(deals)
    result = attribute(
        model,
        amount=opportunity.amount,
        currency=opportunity.currency,
        close_at=close_at,
        paths=paths,
        history=history,
        config=config,
        exponent=exponent_of(opportunity.currency),
    )
    return opportunity, result


@dataclass(slots=True)
class PartnerRow:
    """One partner's year with one vendor, in one currency."""

    partner_org: str
    currency: str
    sourced_revenue: Decimal = Decimal(0)
    influenced_revenue: Decimal = Decimal(0)
    attributed_revenue: Decimal = Decimal(0)
    won_deals: int = 0
    closed_deals: int = 0  # WON or LOST with this partner involved
    won_amount: Decimal = Decimal(0)

    @property
    def average_deal_size(self) -> Decimal | None:
        return None if not self.won_deals else self.won_amount / self.won_deals

    @property
    def win_rate(self) -> Decimal | None:
        return None if not self.closed_deals else Decimal(self.won_deals) / self.closed_deals


@dataclass(slots=True)
class PartnerReport:
    model: AttributionModel
    rows: list[PartnerRow]
    closed_deals: int  # the vendor's, per the filter
    won_deals: int
    # Win rate of the vendor's closed deals in which the partner was not involved.
    win_rate_without: dict[str, Decimal | None] = field(default_factory=dict)


async def partner_attribution(
    graph: GraphStore,
    identity: IdentityStore,
    actor: Actor,
    *,
    vendor_org: str | None,
    closed_from: datetime,
    closed_to: datetime,
    model: AttributionModel,
    config: AttributionConfig,
    now: datetime,
) -> PartnerReport:
    """Per partner, over the vendor's deals closed in [closed_from, closed_to): sourced,
    influenced and model-attributed revenue, won deals, average deal size, win rate with
    and without the partner. A partner asking about a vendor gets its own row only."""
    actor.require(Permission.READ)
    closed_from, closed_to = in_range(closed_from, "from"), in_range(closed_to, "to")
    if closed_to <= closed_from:
        raise BadInput("to must be after from", field="to")
    if closed_to - closed_from > timedelta(days=MAX_REPORT_DAYS):
        raise BadInput(f"at most {MAX_REPORT_DAYS} days per report", field="to")
    vendor = vendor_org or actor.org_id
    only: str | None = None
    if vendor != actor.org_id:
        if not await graph.counterparties(actor.org_id, [vendor]):
            raise NotFound("no such organization")
        only = actor.org_id
    history = None
    # SHAPLEY and MARKOV need the whole range's history before the first deal is
    # attributed; up to CACHE_DEALS deals the pass that builds it keeps what it read, so
    # the store is read once, not twice.
    cached: list[tuple[Opportunity, ClosedDeal, _DealPaths]] | None = None
    if model in (AttributionModel.SHAPLEY, AttributionModel.MARKOV):
        cached = []
        history_deals = []
        async for read in _closed_deals(
            graph, vendor, closed_from=closed_from, closed_to=closed_to, config=config, now=now
        ):
            history_deals.append(read[1])
            if cached is not None:
                cached.append(read)
                if len(cached) > CACHE_DEALS:
                    cached = None
        history = History(history_deals)
    source = (
        _replay(cached)
        if cached is not None
        else _closed_deals(
            graph, vendor, closed_from=closed_from, closed_to=closed_to, config=config, now=now
        )
    )
    rows: dict[tuple[str, str], PartnerRow] = {}
    involved_closed: dict[str, int] = defaultdict(int)
    involved_won: dict[str, int] = defaultdict(int)
    closed = won = 0
    async for opportunity, deal, paths in source:
        closed += 1
        won += deal.won
        partners = set(deal.partners) | set(paths.sourced)
        for partner in partners:
            involved_closed[partner] += 1
            involved_won[partner] += deal.won
            row = rows.setdefault(
                (partner, opportunity.currency), PartnerRow(partner, opportunity.currency)
            )
            row.closed_deals += 1
            if deal.won:
                row.won_deals += 1
                row.won_amount += opportunity.amount
                if partner in paths.sourced:
                    row.sourced_revenue += opportunity.amount
                else:
                    row.influenced_revenue += opportunity.amount
        if deal.won and paths.paths:
            credit = attribute(
                model,
                amount=opportunity.amount,
                currency=opportunity.currency,
                close_at=opportunity.closed_at or now,
                paths=paths.paths,
                history=history,
                config=config,
                exponent=exponent_of(opportunity.currency),
            )
            for item in credit.credits:
                key = (item.partner_org, opportunity.currency)
                rows.setdefault(key, PartnerRow(item.partner_org, opportunity.currency))
                rows[key].attributed_revenue += item.amount
    without = {
        partner: (
            None
            if closed == involved_closed[partner]
            else Decimal(won - involved_won[partner]) / (closed - involved_closed[partner])
        )
        for partner in involved_closed
    }
    ordered = sorted(
        rows.values(), key=lambda r: (-r.attributed_revenue, r.partner_org, r.currency)
    )
    if only is not None:
        ordered = [r for r in ordered if r.partner_org == only]
        without = {p: v for p, v in without.items() if p == only}
    await audit.record(
        identity,
        actor,
        "attribution.report",
        now=now,
        vendor=vendor,
        model=model.value,
        deals=str(closed),
    )
    return PartnerReport(
        model=model, rows=ordered, closed_deals=closed, won_deals=won, win_rate_without=without
    )


@dataclass(frozen=True, slots=True)
class _DealPaths:
    paths: list[InfluencePath]  # in the window
    sourced: frozenset[str]  # partners whose approved registration predates the deal


async def _replay(
    items: list[tuple[Opportunity, ClosedDeal, _DealPaths]],
) -> AsyncIterator[tuple[Opportunity, ClosedDeal, _DealPaths]]:
    for item in items:
        yield item


async def _closed_deals(
    graph: GraphStore,
    vendor: str,
    *,
    closed_from: datetime,
    closed_to: datetime,
    config: AttributionConfig,
    now: datetime,
) -> AsyncIterator[tuple[Opportunity, ClosedDeal, _DealPaths]]:
    """The vendor's closed deals in the range, a batch of paths per store call."""
    after: str | None = None
    while True:
        page = await graph.closed_opportunities(
            vendor, closed_from=closed_from, closed_to=closed_to, first=BATCH, after=after
        )
        if not page.items:
            return
        ids = [o.id for o in page.items]
        paths = await graph.influence_paths(
            vendor,
            ids,
            max_hops=DEFAULT_HOPS,
            window=timedelta(days=config.window_days),
            now=now,
        )
        registrations = await graph.deals_on_accounts(
            vendor, sorted({o.account_id for o in page.items})
        )
        by_account: dict[str, list[DealRegistration]] = defaultdict(list)
        for registration in registrations:
            by_account[registration.account_id].append(registration)
        for opportunity in page.items:
            close_at = opportunity.closed_at or now
            kept = paths_in_window(
                paths.get(opportunity.id, []), close_at=close_at, window_days=config.window_days
            )
            ordered = sorted(kept, key=lambda p: (p.steps[0].at, p.origin))
            deal = ClosedDeal(
                partners=tuple(p.origin for p in ordered),
                won=opportunity.status is OpportunityStatus.WON,
            )
            yield opportunity, deal, _DealPaths(kept, _sourced(opportunity, by_account))
        if not page.has_next:
            return
        after = page.cursors[-1]


def _sourced(
    opportunity: Opportunity, by_account: dict[str, list[DealRegistration]]
) -> frozenset[str]:
    """Partners whose registration on the deal's account was approved and came before
    the vendor's opportunity existed: they brought the deal."""
    return frozenset(
        r.partner_org
        for r in by_account.get(opportunity.account_id, [])
        if r.status in APPROVED_ONCE
        and r.registered_at < opportunity.created_at
        and r.opportunity_id in (None, opportunity.id)
    )
