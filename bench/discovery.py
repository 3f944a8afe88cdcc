"""complementaryPartners latency as the number of orgs grows, against single round
trips to the same store measured in the same run.

    .venv/bin/python -m bench.discovery --sizes 500,1000,2000 [--backends sqlite,neo4j]
    (Neo4j: set BENCH_NEO4J_URL, or run through `bench/run discovery ...` which starts one.)

One world per backend, grown in steps to each size (orgs are only added, so the 2,000-org
world is the 1,000-org one plus 1,000 more orgs):

- VENDORS (20) vendors, the rest partners of random types (ISV, SI, MSP, RESELLER,
  REFERRAL, INFLUENCER) in four regions; 60 % of partners discoverable, vendors too;
- ACCOUNTS (500) CUSTOMER accounts per org, drawn from a pool of POOL companies with a
  power law (company `int(POOL * random() ** SKEW)`, the seed's shape), keyed by a
  ready-made domain hash and, for one company in three, a DUNS hash; loaded through
  `store.upsert_accounts` (one 500-row call per org; loading is not what is measured);
- each partner joins 1-3 vendor ecosystems (ACTIVE partnerships, vendors picked with a
  power law too, so a few ecosystems are large), and one partner in ten also partners
  another partner;
- co-selling history: 30 % of a partner's vendor partnerships come with a WON
  registration (`store.register_deal`, status WON) on one of the vendor's HOT (10) most
  common accounts, so partners of one vendor share co-won deals.

At each size, for VIEWERS (30) partner orgs picked once from the first 500 orgs (the
same viewers at every size): a warm-up call each, then RUNS (3) timed calls each of the
service, `resolvers.intros.discover.complementary_partners(..., first=20)` (store reads,
scoring, ranking and its audit entry), p50 / p95 over all timed calls. Then, once per
viewer, its three store reads timed apart (`discovery_candidates`, `candidate_signals`,
`get_orgs`), and the baselines: `store.ping`, `store.get_orgs([viewer])` (one round
trip) and `store.population_counts(viewer)` (one small aggregate over the viewer's 500
accounts). Results: docs/benchmarks.md, "Discovery".
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from neo4j import AsyncGraphDatabase
from ulid import ULID

from bench.overlaps import _db_hits, _neo4j_auth, _print_profile, open_backend, remove_sqlite
from graph.deals import Credit, DealProgram, DealRegistration, DealRole, DealStatus
from graph.identity import Role, TokenKind, TokenScope
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    Org,
    OrgType,
    Partnership,
    PartnershipStatus,
)
from graph.neo4j import cypher
from graph.neo4j import intro_cypher as iq
from graph.port import ResettableStore
from graph.sql.identity import SqlIdentityStore
from resolvers import audit
from resolvers.actor import Actor
from resolvers.clock import utcnow
from resolvers.deals.rules import claim_key
from resolvers.ids import new_id
from resolvers.intros.discover import MAX_CANDIDATES, OVERLAP_POPULATION, complementary_partners
from resolvers.intros.discovery import DEFAULT_COMPLEMENTS, parse_complements

VENDORS = 20
ACCOUNTS = 500
POOL = 400_000
SKEW = 2.2
HOT = 10
VIEWERS = 30
RUNS = 3
FIRST = 20
K = 5
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
PARTNER_TYPES = (
    OrgType.ISV,
    OrgType.SI,
    OrgType.MSP,
    OrgType.RESELLER,
    OrgType.REFERRAL,
    OrgType.INFLUENCER,
)
ROLE = {
    OrgType.ISV: DealRole.ISV,
    OrgType.SI: DealRole.SI,
    OrgType.MSP: DealRole.RESELLER,
    OrgType.RESELLER: DealRole.RESELLER,
    OrgType.REFERRAL: DealRole.REFERRAL,
    OrgType.INFLUENCER: DealRole.INFLUENCER,
}
PRODUCTS = ("platform", "analytics", "security")
COMPLEMENTS = parse_complements(DEFAULT_COMPLEMENTS)


def hashed(kind: KeyKind, canonical: str) -> HashedKey:
    """A stand-in for the keyed hash: same shape (64 hex), far cheaper to make."""
    return HashedKey(kind, hashlib.sha256(f"{kind.value}:{canonical}".encode()).hexdigest())


# --- the world ------------------------------------------------------------------------


@dataclass
class World:
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    orgs: list[Org] = field(default_factory=list)
    vendors: list[Org] = field(default_factory=list)
    partners: list[Org] = field(default_factory=list)
    hot_accounts: dict[str, list[str]] = field(default_factory=dict)  # vendor -> account ids
    accounts: int = 0
    partnerships: int = 0
    registrations: int = 0

    async def grow(self, store: ResettableStore, size: int) -> float:
        """Add orgs (with their accounts, partnerships and deals) up to `size`; returns
        the account load rate (rows/s over the whole step)."""
        state = await store.key_state()
        start = time.perf_counter()
        while len(self.orgs) < size:
            org = self._new_org()
            await store.create_org(org)
            rows = self._accounts(org)
            results = await store.upsert_accounts(org.id, rows, expected_state=state, at=utcnow())
            self.accounts += len(rows)
            if OrgType.VENDOR in org.types:
                self.vendors.append(org)
                # The accounts most orgs have (lowest company numbers) are the hot ones.
                ranked = sorted(zip(rows, results, strict=True), key=lambda p: p[0].crm_id)
                self.hot_accounts[org.id] = [r.account_id for _, r in ranked[:HOT]]
            else:
                self.partners.append(org)
                await self._join(store, org)
            self.orgs.append(org)
            if len(self.orgs) % 250 == 0:
                print(
                    f"    {len(self.orgs):,} orgs, {self.accounts:,} accounts, "
                    f"{self.partnerships:,} partnerships, {self.registrations:,} WON deals "
                    f"({time.perf_counter() - start:,.0f} s)",
                    flush=True,
                )
        return self.accounts / (time.perf_counter() - start)

    def _new_org(self) -> Org:
        rng = self.rng
        now = utcnow()
        if len(self.orgs) < VENDORS:
            return Org(
                id=str(ULID()),
                name=f"Vendor {len(self.orgs)}",
                types=frozenset({OrgType.VENDOR}),
                region=rng.choice(REGIONS),
                discoverable=True,
                created_at=now,
            )
        types = {rng.choice(PARTNER_TYPES)}
        if rng.random() < 0.2:
            types.add(rng.choice(PARTNER_TYPES))
        return Org(
            id=str(ULID()),
            name=f"Partner {len(self.orgs)}",
            types=frozenset(types),
            region=rng.choice(REGIONS),
            discoverable=rng.random() < 0.6,
            created_at=now,
        )

    def _accounts(self, org: Org) -> list[AccountUpsert]:
        taken: set[int] = set()
        while len(taken) < ACCOUNTS:
            taken.add(int(POOL * self.rng.random() ** SKEW))
        rows = []
        for index in sorted(taken):
            keys = [hashed(KeyKind.DOMAIN, f"co{index}.com")]
            if index % 3 == 0:
                keys.append(hashed(KeyKind.DUNS, f"duns-{index}"))
            rows.append(
                AccountUpsert(
                    crm_id=f"crm-{index:08d}",
                    new_id=str(ULID()),
                    name=f"Company {index}",
                    owner=None,
                    populations=(OVERLAP_POPULATION,),
                    fields=(),
                    keys=tuple(keys),
                )
            )
        return rows

    async def _join(self, store: ResettableStore, partner: Org) -> None:
        rng = self.rng
        vendors: set[int] = set()
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            vendors.add(int(len(self.vendors) * rng.random() ** 1.5))
        for number in sorted(vendors):
            vendor = self.vendors[number]
            await self._partner(store, vendor, partner)
            if rng.random() < 0.3:
                await self._won_deal(store, vendor, partner)
        if rng.random() < 0.1 and len(self.partners) > 1:
            await self._partner(store, rng.choice(self.partners[:-1]), partner)

    async def _partner(self, store: ResettableStore, inviter: Org, invitee: Org) -> None:
        now = utcnow()
        made = await store.insert_partnership(
            Partnership(new_id(), inviter.id, invitee.id, PartnershipStatus.INVITED, now, now)
        )
        await store.transition_partnership(
            invitee.id,
            made.id,
            expected=[PartnershipStatus.INVITED],
            new_status=PartnershipStatus.ACTIVE,
            at=now,
        )
        self.partnerships += 1

    async def _won_deal(self, store: ResettableStore, vendor: Org, partner: Org) -> None:
        account_id = self.rng.choice(self.hot_accounts[vendor.id])
        product = self.rng.choice(PRODUCTS)
        role = ROLE[min(partner.types, key=PARTNER_TYPES.index)]
        now = utcnow()
        await store.register_deal(
            DealRegistration(
                id=new_id(),
                vendor_org=vendor.id,
                partner_org=partner.id,
                account_id=account_id,
                opportunity_id=None,
                role=role,
                product_line=product,
                amount=Decimal("40000.00"),
                currency="USD",
                expected_close=date.today() - timedelta(days=30),
                status=DealStatus.WON,
                reasons=(),
                credit=Credit.SOURCED,
                registered_by="bench",
                registered_at=now - timedelta(days=120),
                updated_at=now - timedelta(days=30),
                claim_key=claim_key(
                    vendor_org=vendor.id,
                    account_id=account_id,
                    product_line=product,
                    role=role,
                    partner_org=partner.id,
                    program=DealProgram(vendor.id),
                ),
                decided_at=now - timedelta(days=100),
                decided_by="bench",
            )
        )
        self.registrations += 1


# --- timing ---------------------------------------------------------------------------


def actor_of(org_id: str) -> Actor:
    return Actor(
        user_id=f"bench-{org_id}",
        org_id=org_id,
        role=Role.SALES_REP,
        token_id="bench",  # noqa: S106  (an id, not a secret)
        token_kind=TokenKind.API,
        scope=TokenScope.READ,
    )


async def once_ms(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Row:
    backend: str
    orgs: int
    accounts: int
    partnerships: int
    won: int
    load_rate: float
    p50: float
    p95: float
    candidates: float  # mean per viewer
    bucketed: float  # mean suggestions per viewer (first page) showing an overlap bucket
    parts: dict[str, float]  # p50 ms of each store read
    ping: float
    get_org: float
    counts: float
    audit: float  # the service's one write: its audit entry


async def measure(
    backend: str,
    store: ResettableStore,
    identity: SqlIdentityStore,
    world: World,
    viewers: list[str],
    load_rate: float,
) -> Row:
    now = utcnow()

    def call(viewer: str) -> Awaitable[Any]:
        return complementary_partners(
            store,
            identity,
            actor_of(viewer),
            complements=COMPLEMENTS,
            k=K,
            first=FIRST,
            after=None,
            now=now,
        )

    bucketed = []
    for viewer in viewers:  # warm-up
        page = await call(viewer)
        bucketed.append(sum(s.overlap_bucket is not None for s in page.items))
    samples = []
    for _ in range(RUNS):
        for viewer in viewers:
            samples.append(await once_ms(partial(call, viewer)))
    parts: dict[str, list[float]] = {"candidates": [], "signals": [], "get_orgs": []}
    sizes = []
    ping, get_org, counts, audits = [], [], [], []
    for viewer in viewers:
        start = time.perf_counter()
        found = await store.discovery_candidates(viewer, limit=MAX_CANDIDATES)
        parts["candidates"].append((time.perf_counter() - start) * 1000)
        ids = [c.org_id for c in found]
        sizes.append(len(ids))
        signals = partial(store.candidate_signals, viewer, ids, population=OVERLAP_POPULATION)
        parts["signals"].append(await once_ms(signals))
        parts["get_orgs"].append(await once_ms(partial(store.get_orgs, [viewer, *ids])))
        ping.append(await once_ms(store.ping))
        get_org.append(await once_ms(partial(store.get_orgs, [viewer])))
        counts.append(await once_ms(partial(store.population_counts, viewer)))
        entry = partial(audit.record, identity, actor_of(viewer), "bench.audit", now=now)
        audits.append(await once_ms(entry))
    return Row(
        backend=backend,
        orgs=len(world.orgs),
        accounts=world.accounts,
        partnerships=world.partnerships,
        won=world.registrations,
        load_rate=load_rate,
        p50=statistics.median(samples),
        p95=pct(samples, 0.95),
        candidates=statistics.fmean(sizes),
        bucketed=statistics.fmean(bucketed),
        parts={name: statistics.median(v) for name, v in parts.items()},
        ping=statistics.median(ping),
        get_org=statistics.median(get_org),
        counts=statistics.median(counts),
        audit=statistics.median(audits),
    )


HEADER = (
    "| store | orgs | accounts | p50 ms | p95 ms | goal (Neo4j p50 < 200 ms) "
    "| candidates (mean) | with bucket (of 20) | discovery_candidates ms "
    "| candidate_signals ms | get_orgs ms | audit write ms | ping ms | get_orgs([me]) ms "
    "| population_counts ms | p50 / population_counts | load rows/s |\n"
    "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def row_text(r: Row) -> str:
    goal = ("met" if r.p50 < 200 else "NOT met") if r.backend == "neo4j" else "-"
    return (
        f"| {r.backend} | {r.orgs:,} | {r.accounts:,} | {r.p50:,.1f} | {r.p95:,.1f} | {goal} "
        f"| {r.candidates:,.0f} | {r.bucketed:.1f} | {r.parts['candidates']:,.1f} "
        f"| {r.parts['signals']:,.1f} | {r.parts['get_orgs']:,.1f} | {r.audit:.1f} | {r.ping:.1f} "
        f"| {r.get_org:.1f} | {r.counts:.1f} | {r.p50 / r.counts:.1f}x | {r.load_rate:,.0f} |"
    )


async def profile_neo4j(viewer: str, candidates: list[str]) -> None:
    """PROFILE of the adapter's Cypher for the three reads, for one viewer."""
    url = os.environ["BENCH_NEO4J_URL"]
    driver = AsyncGraphDatabase.driver(url, auth=_neo4j_auth(), notifications_min_severity="OFF")
    params = {"org": viewer, "candidates": candidates, "population": OVERLAP_POPULATION}
    statements: list[tuple[str, str, dict[str, Any]]] = [
        ("discovery_candidates", iq.DISCOVERY_CANDIDATES, {"org": viewer, "limit": 5_000}),
        ("candidate_signals: overlap", iq.CUSTOMER_OVERLAP, params),
        ("candidate_signals: co-won", iq.CO_WON_DEALS, params),
        ("get_orgs", cypher.GET_ORGS, {"ids": [viewer, *candidates]}),
    ]
    try:
        async with driver.session(database="neo4j") as session:
            for label, query, values in statements:
                for _ in range(RUNS):  # warm: client wall time against the server's own
                    start = time.perf_counter()
                    result = await session.run(query, values)
                    rows = len([r async for r in result])
                    summary = await result.consume()
                    took = (time.perf_counter() - start) * 1000
                    server = (summary.result_available_after or 0) + (
                        summary.result_consumed_after or 0
                    )
                    print(
                        f"  [{label}] {rows} rows: {took:,.1f} ms at the client, "
                        f"{server} ms in the server"
                    )
                start = time.perf_counter()
                result = await session.run("PROFILE " + query, values)
                rows = len([r async for r in result])
                summary = await result.consume()
                took = (time.perf_counter() - start) * 1000
                print(
                    f"  [{label}] {rows} rows, {took:,.1f} ms with PROFILE, "
                    f"total db hits {_db_hits(summary.profile):,}"
                )
                _print_profile(summary.profile, 3)
    finally:
        await driver.close()


async def run_backend(
    backend: str, sizes: list[int], scratch: Path, *, profile: bool = False
) -> list[Row]:
    sqlite_path = scratch / "discovery.sqlite3"
    store = open_backend(backend, sqlite_path)
    identity = SqlIdentityStore(f"sqlite+aiosqlite:///{scratch / f'identity-{backend}.sqlite3'}")
    rows = []
    try:
        await store.apply_schema()
        await store.reset()
        await identity.apply_schema()
        world = World()
        viewers: list[str] = []
        for size in sizes:
            print(f"  {backend}: growing to {size:,} orgs", flush=True)
            rate = await world.grow(store, size)
            if not viewers:
                pool = [p.id for p in world.partners[:500]]
                viewers = random.Random(11).sample(pool, min(VIEWERS, len(pool)))
            row = await measure(backend, store, identity, world, viewers, rate)
            print(row_text(row), flush=True)
            rows.append(row)
            if profile and backend == "neo4j":
                found = await store.discovery_candidates(viewers[0], limit=MAX_CANDIDATES)
                await profile_neo4j(viewers[0], [c.org_id for c in found])
    finally:
        await store.close()
        await identity.close()
        remove_sqlite(sqlite_path)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--backends", default="sqlite,neo4j")
    parser.add_argument(
        "--profile", action="store_true", help="Neo4j: PROFILE the reads for one viewer"
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        for backend in args.backends.split(","):
            rows.extend(await run_backend(backend, sizes, Path(scratch), profile=args.profile))
    print(
        f"\n{VIEWERS} viewers, {RUNS} warm calls each (p50/p95 over all calls); "
        f"store reads and baselines: median of one call per viewer; first={FIRST}, k={K}"
    )
    print(HEADER)
    for row in rows:
        print(row_text(row))


if __name__ == "__main__":
    asyncio.run(main())
