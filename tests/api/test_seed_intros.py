"""The demo seed's introductions, asks and blocks: every introduction status, accepted
asks, made through the real services; a reload changes nothing."""

from __future__ import annotations

from typing import Any

from api.stores import Stores, auth_config
from graph.intros import AskStatus, IntroStatus
from graph.model import OrgType
from resolvers.clock import utcnow
from seed.generator import generate
from seed.loader import LoadSummary, load_into
from tests.api.conftest import World

ALL = 10_000


async def _snapshot(stores: Stores, orgs: list[str]) -> dict[str, Any]:
    """Every org's introductions (as requester), asks (made) and blocks as stored."""
    out: dict[str, Any] = {}
    for org in orgs:
        made = await stores.graph.list_introductions(org, role="requester", first=ALL)
        asked = await stores.graph.list_asks(org, side="requester", first=ALL)
        out[org] = (made.items, asked.items, await stores.graph.blocked_orgs(org))
    return out


def test_demo_intros_mix_and_reload(world: World) -> None:
    eco = generate("demo", 7)
    orgs = [o.id for o in eco.orgs]
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
        return summary, await _snapshot(stores, orgs)

    first, before = world.run(load)
    for status in IntroStatus:
        assert first.introductions.get(status), (status, first.introductions)
    assert first.asks.get(AskStatus.ACCEPTED), first.asks
    assert first.blocks >= 1
    assert first.intro_vendors_present == 0
    stored = [i for made, _, _ in before.values() for i in made]
    assert len(stored) == sum(first.introductions.values())
    assert any(i.broker_org is not None for i in stored)
    assert any(i.broker_org is None for i in stored)
    assert all(i.partnership_id for i in stored if i.status is IntroStatus.ACCEPTED)
    assert sum(len(a) for _, a, _ in before.values()) == sum(first.asks.values())

    second, after = world.run(load)
    assert not second.introductions
    assert not second.asks
    assert second.blocks == 0
    vendors = [o for o in eco.orgs if OrgType.VENDOR in o.types]
    assert second.intro_vendors_present == len(vendors)
    assert after == before
