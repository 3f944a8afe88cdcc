"""The demo seed's touches: won deals with paths from several partners, multi-hop paths
through seeded introductions, partner-recorded touches confirmed by the vendor; a reload
changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.stores import Stores, auth_config
from graph.deals import OpportunityStatus
from graph.model import OrgType
from graph.touches import TouchStatus
from resolvers.clock import utcnow
from seed.generator import EPOCH, generate
from seed.loader import LoadSummary, load_into
from tests.api.conftest import World

ALL = 10_000


async def _snapshot(stores: Stores, vendors: list[str], now: Any) -> dict[str, Any]:
    """Per vendor: every touch it holds, and the paths to each of its WON deals."""
    out: dict[str, Any] = {}
    for vendor in vendors:
        held = await stores.graph.list_touches(vendor, side="vendor", first=ALL)
        closed = await stores.graph.closed_opportunities(
            vendor,
            closed_from=EPOCH - timedelta(days=3_650),
            closed_to=now + timedelta(days=1),
            first=ALL,
        )
        won = [o.id for o in closed.items if o.status is OpportunityStatus.WON]
        paths = await stores.graph.influence_paths(
            vendor, won, max_hops=3, window=timedelta(days=365), now=now
        )
        out[vendor] = (sorted(held.items, key=lambda t: t.id), paths)
    return out


def test_demo_touches_paths_and_reload(world: World) -> None:
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
        return summary, await _snapshot(stores, vendors, now)

    first, before = world.run(load)
    assert first.touches_created > 0
    assert first.touches.get(TouchStatus.CONFIRMED), first.touches
    assert first.touches.get(TouchStatus.REJECTED) or first.touches.get(TouchStatus.PENDING)
    held = [t for touches, _ in before.values() for t in touches]
    assert {t.recorded_by == t.vendor_org for t in held} == {True, False}
    assert len({t.kind for t in held}) >= 5
    paths = [p for _, by_opp in before.values() for p in by_opp.values()]
    assert any(len({p.origin for p in opp}) >= 2 for opp in paths)
    assert any(p.hops >= 1 for opp in paths for p in opp), "no multi-hop path"

    second, after = world.run(load)
    assert second.touches_created == 0
    assert second.touches == first.touches
    assert after == before
