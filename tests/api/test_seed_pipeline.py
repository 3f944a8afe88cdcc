"""The demo seed's pipeline: opportunities and a deal registration mix that exercises
every check and status, loaded through the real services, and a reload changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

from api.stores import Stores, auth_config
from graph.deals import DealReason, DealStatus, OpportunityStatus
from graph.model import OrgType
from resolvers.clock import utcnow
from resolvers.deals import rules
from seed.generator import generate
from seed.loader import LoadSummary, load_into
from tests.api.conftest import World

ALL = 10_000


async def _snapshot(stores: Stores, vendors: list[str]) -> dict[str, Any]:
    """Every vendor's opportunities and registrations as stored."""
    out: dict[str, Any] = {}
    for vendor in vendors:
        opportunities = await stores.graph.list_opportunities(vendor, first=ALL)
        deals = await stores.graph.list_deals(vendor, side="vendor", first=ALL)
        assert not opportunities.has_next
        assert not deals.has_next
        out[vendor] = (opportunities.items, deals.items)
    return out


def test_demo_pipeline_mix_and_reload(world: World) -> None:
    eco = generate("demo", 7)
    vendors = [o.id for o in eco.orgs if OrgType.VENDOR in o.types]
    now = utcnow()

    async def load(stores: Stores) -> tuple[LoadSummary, dict[str, Any]]:
        summary = await load_into(
            stores.graph,
            stores.identity,
            eco,
            auth_config(world.settings),
            world.settings.keyring,
            now=now,
        )
        return summary, await _snapshot(stores, vendors)

    first, before = world.run(load)
    assert first.opportunities_created > 0
    made = first.registrations
    for status in (
        DealStatus.PENDING_REVIEW,
        DealStatus.APPROVED,
        DealStatus.REJECTED,
        DealStatus.WON,
        DealStatus.LOST,
        DealStatus.WITHDRAWN,
    ):
        assert made.get(status), (status, made)

    deals = [rules.as_of(d, now) for _, ds in before.values() for d in ds]
    assert sum(made.values()) == len(deals)
    reasons = Counter(r for d in deals for r in d.reasons)
    for reason in (
        DealReason.DUPLICATE,
        DealReason.EXISTING_PIPELINE,
        DealReason.NEW_PROSPECT,
        DealReason.DIRECT_ONLY,
    ):
        assert reasons[reason], (reason, reasons)
    assert any(d.status is DealStatus.REJECTED and d.decided_by for d in deals)  # reviewed
    # Co-registration: several partners hold live claims on one account, not all exclusive.
    live: dict[tuple[str, str], set[str]] = {}
    for d in deals:
        if d.status.is_live and d.role.value in ("SI", "ISV", "INFLUENCER"):
            live.setdefault((d.vendor_org, d.account_id), set()).add(d.partner_org)
    for d in deals:
        if d.status.is_live and (d.vendor_org, d.account_id) in live:
            live[(d.vendor_org, d.account_id)].add(d.partner_org)
    assert any(len(partners) > 1 for partners in live.values())
    # Registrations and the history were replayed in the past; opportunities too.
    assert all(d.registered_at < now for d in deals)
    opportunities = [o for opps, _ in before.values() for o in opps]
    assert {o.status for o in opportunities} == set(OpportunityStatus)
    assert all(o.created_at < now for o in opportunities)
    assert all(o.closed_at is None or o.created_at <= o.closed_at < now for o in opportunities)
    assert len({o.currency for o in opportunities}) >= 3
    amounts = sorted(o.amount for o in opportunities)
    assert amounts[-1] > 5 * amounts[len(amounts) // 2] > 25 * amounts[0]

    second, after = world.run(load)
    assert second.orgs_created == second.users_created == second.accounts_created == 0
    assert second.opportunities_created == 0
    assert second.registrations == {}
    assert second.registration_vendors_present == len(vendors)
    assert after == before
