"""No N+1: a deep query costs the same number of store round trips for 10 objects as
for 100. The app's stores are wrapped in a proxy that counts every awaited call of a
public async method; the counts are printed (run with -s to see them)."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from starlette.testclient import TestClient

import api.app
from api.app import create_app
from api.observability import Metrics
from api.settings import Settings
from api.stores import Stores, open_stores
from graph.deals import DealStatus, DealTransition
from graph.identity import Role
from graph.model import KeyState, OrgType
from tests.api.conftest import World, gid, settings_for
from tests.factories import (
    at,
    link,
    make_ask,
    make_introduction,
    make_opportunity,
    make_org,
    make_registration,
    make_touch,
    make_upsert,
)

SIZES = (10, 100)


class CountingStore:
    """Forwards everything to `target`; counts each awaited call of a public async
    method (one store round trip, or more: never fewer) in `counts`."""

    def __init__(self, target: object, name: str, counts: Counter[str]) -> None:
        self._target = target
        self._name = name
        self._counts = counts

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute.startswith("_") or not inspect.iscoroutinefunction(value):
            return value
        counts, label = self._counts, f"{self._name}.{attribute}"

        async def counted(*args: Any, **kwargs: Any) -> Any:
            counts[label] += 1
            return await value(*args, **kwargs)

        return counted


@dataclass
class Counted:
    world: World
    counts: Counter[str]

    def calls(self, who: str, query: str, **variables: Any) -> tuple[dict[str, Any], Counter[str]]:
        """One request's data (checked for errors) and the store calls it made."""
        self.counts.clear()
        body = self.world.gql(who, query, **variables)
        assert "errors" not in body, body
        made = Counter(self.counts)
        self.counts.clear()
        data: dict[str, Any] = body["data"]
        return data, made


@pytest.fixture
def counted(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counted]:
    # No background sweeps during the test: only the requests' own calls are counted.
    # 100 aliased node(id:) lookups are a large document on purpose: the query-size
    # limits (tested in test_limits.py) are raised so that this test measures round trips.
    settings = settings_for(
        sqlite_url,
        TANDEM_DEAL_SWEEP_SECONDS="3600",
        TANDEM_MAX_TOKENS="100000",
        TANDEM_MAX_ALIASES="1000",
        TANDEM_MAX_COST="10000000",
    )
    counts: Counter[str] = Counter()

    def counting_stores(settings: Settings, metrics: Metrics | None = None) -> Stores:
        stores = open_stores(settings, metrics)
        return Stores(
            graph=CountingStore(stores.graph, "graph", counts),
            identity=CountingStore(stores.identity, "identity", counts),
        )

    monkeypatch.setattr(api.app, "open_stores", counting_stores)
    with TestClient(create_app(settings)) as client:
        yield Counted(World(client=client, settings=settings), counts)


@dataclass
class Objects:
    """What `build` made: its two viewers and the ids queries name."""

    vendor_user: str
    partner_user: str
    opportunities: list[str]
    accounts: list[str]


def build(world: World, n: int) -> Objects:
    """A vendor with n accounts, n opportunities (one per account) and n partners,
    each partner with an approved registration (so with history) on its account and
    opportunity and a touch on it; n introductions the vendor requested (to partner i,
    brokered by partner i+1); n asks from the vendor to partner 0 about the vendor's
    account i and partner 0's account i. Orgs are named after n, so worlds of several
    sizes share one store."""

    async def work(stores: Stores) -> Objects:
        graph = stores.graph
        vendor = make_org(f"V{n}", types=(OrgType.VENDOR,))
        partners = [make_org(f"P{n}-{i}", types=(OrgType.RESELLER,)) for i in range(n)]
        for org in (vendor, *partners):
            await graph.create_org(org)
        for partner in partners:
            await link(graph, vendor, partner)
        written = await graph.upsert_accounts(
            vendor.id,
            [make_upsert(f"acc-{i}", f"v{n}-{i}.example.com") for i in range(n)],
            expected_state=KeyState(),
            at=at(0),
        )
        accounts = [r.account_id for r in written]
        p0_written = await graph.upsert_accounts(
            partners[0].id,
            [make_upsert(f"p0-acc-{i}", f"v{n}-{i}.example.com") for i in range(n)],
            expected_state=KeyState(),
            at=at(0),
        )
        opportunities = await graph.upsert_opportunities(
            vendor.id, [make_opportunity(f"opp-{i}", f"acc-{i}") for i in range(n)], at=at(1)
        )
        opp_ids = [o.opportunity_id for o in opportunities if o.opportunity_id is not None]
        for i, partner in enumerate(partners):
            pending = await graph.register_deal(
                make_registration(
                    vendor.id,
                    partner.id,
                    accounts[i],
                    opportunity_id=opp_ids[i],
                    registered_at=at(2),
                )
            )
            approved = replace(pending, status=DealStatus.APPROVED, updated_at=at(3))
            move = DealTransition(
                pending.id, at(3), DealStatus.PENDING_REVIEW, DealStatus.APPROVED, vendor.id, "u"
            )
            assert await graph.update_deal(pending, approved, move) is not None
            await graph.insert_introduction(
                make_introduction(vendor, partner, broker=partners[(i + 1) % n])
            )
            await graph.insert_ask(
                make_ask(vendor, partners[0], accounts[i], (p0_written[i].account_id,))
            )
        await graph.record_touches(
            [
                make_touch(vendor.id, partner.id, accounts[i], opportunity_id=opp_ids[i])
                for i, partner in enumerate(partners)
            ]
        )
        world.orgs[f"V{n}"], world.orgs[f"P{n}"] = vendor.id, partners[0].id
        return Objects(f"v{n}", f"p{n}", opp_ids, accounts)

    objects = world.run(work)
    world.add_user(objects.vendor_user, f"V{n}", Role.ADMIN)
    world.add_user(objects.partner_user, f"P{n}", Role.ADMIN)
    return objects


DEALS = """{ dealRegistrations(side: VENDOR, first: 100) { edges { node {
  partner { name } vendor { name } account { crmId } opportunityId
  coRegistrants { role status } history { toStatus by } } } } }"""
OPPORTUNITIES = """{ opportunities(first: 100) { edges { node { name account { name } } } } }"""
INTRODUCTIONS = """{ introductions(role: REQUESTER, first: 100) { edges { node {
  requester { name } target { name } broker { name } } } } }"""
ASKS_MADE = """{ accountAsks(side: REQUESTER, first: 100) { edges { node {
  requester { name } partner { name } myAccounts { crmId } } } } }"""
ASKS_RECEIVED = """{ accountAsks(side: PARTNER, first: 100) { edges { node {
  requester { name } myAccounts { crmId name } } } } }"""
TOUCHES = """{ touches(side: VENDOR, first: 100) { edges { node {
  partner { name } vendor { name } accountId } } } }"""


def node_aliases(type_name: str, ids: list[str], selection: str) -> str:
    """One `node(id:)` field per id, aliased: each resolves on its own."""
    fields = " ".join(
        f'n{i}: node(id: "{gid(type_name, node_id)}") {{ {selection} }}'
        for i, node_id in enumerate(ids)
    )
    return "{ " + fields + " }"


# name -> (which viewer, the query for a world)
QUERIES: dict[str, tuple[str, Callable[[Objects], str]]] = {
    "dealRegistrations": ("vendor", lambda _: DEALS),
    "opportunities": ("vendor", lambda _: OPPORTUNITIES),
    "introductions": ("vendor", lambda _: INTRODUCTIONS),
    "accountAsks made": ("vendor", lambda _: ASKS_MADE),
    "accountAsks received": ("partner", lambda _: ASKS_RECEIVED),
    "touches": ("vendor", lambda _: TOUCHES),
    "node(id:) x opportunities": (
        "vendor",
        lambda o: node_aliases(
            "Opportunity", o.opportunities, "... on Opportunity { crmId account { name } }"
        ),
    ),
    "node(id:) x accounts": (
        "vendor",
        lambda o: node_aliases("Account", o.accounts, "... on Account { crmId }"),
    ),
}


def check(name: str, data: dict[str, Any], n: int) -> None:
    """Batching changed how the data is fetched, not what it is."""
    if name.startswith("node(id:)"):
        nodes = list(data.values())
        assert len(nodes) == n
        assert all(nodes), data
        if "opportunities" in name:
            assert all(node["account"]["name"].startswith("Account acc-") for node in nodes)
        return
    [connection] = data.values()
    nodes = [edge["node"] for edge in connection["edges"]]
    assert len(nodes) == n, name
    if name == "dealRegistrations":
        for node in nodes:
            assert node["account"]["crmId"].startswith("acc-")
            assert node["partner"]["name"].startswith(f"P{n}-")
            assert node["vendor"]["name"] == f"V{n}"
            assert [h["toStatus"] for h in node["history"]] == ["PENDING_REVIEW", "APPROVED"]
            assert node["coRegistrants"] == []
    if name == "opportunities":
        assert all(node["account"]["name"].startswith("Account acc-") for node in nodes)
    if name == "introductions":
        assert all(node["broker"]["name"].startswith(f"P{n}-") for node in nodes)
    if name.startswith("accountAsks"):
        mine = "acc-" if name.endswith("made") else "p0-acc-"
        assert all(
            [a["crmId"][: len(mine)] for a in node["myAccounts"]] == [mine] for node in nodes
        ), nodes
    if name == "touches":
        assert all(node["partner"]["name"].startswith(f"P{n}-") for node in nodes)


def test_store_calls_do_not_grow_with_the_number_of_objects(counted: Counted) -> None:
    worlds = {n: build(counted.world, n) for n in SIZES}
    measured: dict[str, dict[int, Counter[str]]] = {}
    for name, (viewer, query_for) in QUERIES.items():
        for n, objects in worlds.items():
            who = objects.vendor_user if viewer == "vendor" else objects.partner_user
            data, calls = counted.calls(who, query_for(objects))
            check(name, data, n)
            measured.setdefault(name, {})[n] = calls
    lines = []
    for name, by_size in measured.items():
        sizes = ", ".join(f"{n} objects: {sum(c.values())}" for n, c in by_size.items())
        lines.append(f"store calls, {name}: {sizes}  {dict(sorted(by_size[SIZES[-1]].items()))}")
    report = "\n".join(lines)
    print("\n" + report)  # noqa: T201 -- the counts are the point; see them with -s
    for name, by_size in measured.items():
        small, large = (by_size[n] for n in SIZES)
        assert large == small, f"{name}: store calls grow with the number of objects\n{report}"
