"""partnerAttribution over a year of one vendor's closed deals, and influencePaths per deal.

    .venv/bin/python -m bench.attribution_report --won 10000 --touches 200000,2000000
    bench/run attribution_report --won 100000 --touches 2000000 --backends sqlite,neo4j

One vendor, P partners, W won and W/2 lost opportunities (one per account) closed over
one year, T touches by the partners on them (CONFIRMED, 1-6 partners a deal, inside the
year before each close, a fifth on the account), loaded with the store methods directly
(`upsert_accounts` with ready-made hashes, `upsert_opportunities`, `record_touches` in
10,000-row batches). Then `resolvers.influence.reports.partner_attribution` for the year
under LINEAR and SHAPLEY (one run each: these are long), and
`resolvers.influence.reports.influence_paths` for 200 sampled deals (p50/p99).
A sparse INTRODUCED graph (`--edges`, through `store.accept_introduction`): partner 2i
introduced 2i+1, and every fourth 2i+1 also introduced 2i+2, so there are 1- and 2-hop
paths; every path is enumerated, so a dense edge graph would explode the path count.
(Neo4j: set BENCH_NEO4J_URL, or run through `bench/run attribution_report ...`.)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import os
import pstats
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ulid import ULID

from bench.memory import rss_mib
from graph.deals import OpportunityStatus, OpportunityUpsert
from graph.identity import AuditEntry, Role, TokenKind, TokenScope
from graph.intros import IntroducedEdge, Introduction, IntroStatus
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    OrgType,
    Partnership,
    PartnershipStatus,
)
from graph.port import ResettableStore
from graph.touches import Touch, TouchKind, TouchStatus
from resolvers.actor import Actor
from resolvers.attribution.types import AttributionModel
from resolvers.influence import reports
from resolvers.intros.rules import pair_key
from tests.factories import make_org

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_END = YEAR_START + timedelta(days=365)
NOW = YEAR_END + timedelta(days=30)
BATCH = 10_000
PARTNERS = 200
SAMPLES = 200
KINDS = [k for k in TouchKind if k is not TouchKind.DEAL_REGISTRATION]


class _Identity:
    """Stands in for the identity store: the report only appends an audit entry."""

    async def append_audit(self, entry: AuditEntry) -> None:
        return None


def _store(backend: str, scratch: Path) -> ResettableStore:
    from graph.factory import open_store

    if backend == "sqlite":
        return open_store(f"sqlite+aiosqlite:///{scratch / 'attr.sqlite3'}", allow_reset=True)
    return open_store(
        os.environ["BENCH_NEO4J_URL"],
        neo4j_user=os.environ.get("BENCH_NEO4J_USER"),
        neo4j_password=os.environ.get("BENCH_NEO4J_PASSWORD"),
        allow_reset=True,
    )


async def introduce(store: ResettableStore, requester: str, target: str, at: datetime) -> None:
    """An accepted direct introduction (the edge credits the requester)."""
    intro = Introduction(
        id=str(ULID()),
        requester_org=requester,
        target_org=target,
        broker_org=None,
        message="bench",
        status=IntroStatus.REQUESTED,
        requested_by="bench",
        created_at=at,
        updated_at=at,
        expires_at=at + timedelta(days=30),
        pair_key=pair_key(requester, target),
    )
    await store.insert_introduction(intro)
    partnership = Partnership(
        id=str(ULID()),
        inviter_id=requester,
        invitee_id=target,
        status=PartnershipStatus.ACTIVE,
        created_at=at,
        updated_at=at,
        activated_at=at,
    )
    accepted = replace(
        intro,
        status=IntroStatus.ACCEPTED,
        updated_at=at,
        decided_at=at,
        decided_by_org=target,
        partnership_id=partnership.id,
    )
    edge = IntroducedEdge(intro.id, requester, requester, target, at)
    assert await store.accept_introduction(intro, accepted, partnership, edge) is not None


async def load(store: ResettableStore, won: int, touches: int, edges: int) -> tuple[str, list[str]]:
    """The world into an empty store; the vendor id and its opportunity ids."""
    rng = random.Random(f"attribution/{won}/{touches}")
    vendor = make_org("Bench vendor")
    await store.create_org(vendor)
    partners = [make_org(f"Partner {i}", types=(OrgType.RESELLER,)) for i in range(PARTNERS)]
    for p in partners:
        await store.create_org(p)
    met = YEAR_START - timedelta(days=30)
    for i in range(min(edges, PARTNERS // 2 - 1)):
        await introduce(store, partners[2 * i].id, partners[2 * i + 1].id, met)
        if i % 4 == 0:
            await introduce(store, partners[2 * i + 1].id, partners[2 * i + 2].id, met)
    deals = won + won // 2
    state = await store.key_state()
    account_ids: dict[str, str] = {}
    for start in range(0, deals, BATCH):
        rows = [
            AccountUpsert(
                crm_id=f"acc-{i:08d}",
                new_id=str(ULID()),
                name=f"Company {i}",
                owner=None,
                populations=("CUSTOMER",),
                fields=(),
                keys=(HashedKey(KeyKind.DOMAIN, hashlib.sha256(f"co{i}".encode()).hexdigest()),),
            )
            for i in range(start, min(deals, start + BATCH))
        ]
        for r in await store.upsert_accounts(vendor.id, rows, expected_state=state, at=NOW):
            account_ids[r.crm_id] = r.account_id
    closes: list[datetime] = []
    ids: list[str] = []
    accounts: list[str] = []
    for start in range(0, deals, BATCH):
        batch = []
        for i in range(start, min(deals, start + BATCH)):
            closed = YEAR_START + timedelta(seconds=rng.uniform(0, 365 * 86_400 - 1))
            closes.append(closed)
            batch.append(
                OpportunityUpsert(
                    crm_id=f"opp-{i:08d}",
                    new_id=str(ULID()),
                    account_crm_id=f"acc-{i:08d}",
                    name=f"Deal {i}",
                    amount=Decimal(rng.randrange(5_000, 200_000)),
                    currency="USD",
                    stage="Closed",
                    status=OpportunityStatus.WON if i % 3 else OpportunityStatus.LOST,
                    created_at=closed - timedelta(days=rng.uniform(14, 150)),
                    closed_at=closed,
                )
            )
        written = await store.upsert_opportunities(vendor.id, batch, at=NOW)
        for w in written:
            assert w.opportunity_id is not None
            ids.append(w.opportunity_id)
        accounts += [r.account_crm_id for r in batch]
    # Each deal has a few partners; touches go round the deals so every deal gets its share.
    cast = [rng.sample(partners, rng.randint(1, 6)) for _ in range(deals)]
    batch_t: list[Touch] = []
    for n in range(touches):
        d = n % deals
        partner = cast[d][rng.randrange(len(cast[d]))]
        on_account = rng.random() < 0.2
        batch_t.append(
            Touch(
                id=str(ULID()),
                vendor_org=vendor.id,
                partner_org=partner.id,
                external_id=f"t{n}",
                kind=KINDS[n % len(KINDS)],
                at=closes[d] - timedelta(seconds=rng.uniform(60, 300 * 86_400)),
                weight=Decimal(1),
                account_id=account_ids[accounts[d]],
                opportunity_id=None if on_account else ids[d],
                status=TouchStatus.CONFIRMED,
                recorded_by=vendor.id,
                created_at=NOW,
            )
        )
        if len(batch_t) == BATCH:
            await store.record_touches(batch_t)
            batch_t = []
    if batch_t:
        await store.record_touches(batch_t)
    return vendor.id, ids


def _actor(vendor: str) -> Actor:
    return Actor(
        user_id="bench",
        org_id=vendor,
        role=Role.ADMIN,
        token_id="bench-token",  # noqa: S106  (an id, not a secret)
        token_kind=TokenKind.API,
        scope=TokenScope.READ_WRITE,
    )


async def measure(
    backend: str, won: int, touches: int, edges: int, scratch: Path, profile: bool
) -> str:
    store = _store(backend, scratch)
    try:
        await store.apply_schema()
        await store.reset()
        start = time.perf_counter()
        vendor, ids = await load(store, won, touches, edges)
        loaded = time.perf_counter() - start
        actor = _actor(vendor)
        config = reports.build_config()
        cells = [backend, f"{won:,}", f"{touches:,}", str(edges), f"{loaded:,.0f}"]
        for model in (AttributionModel.LINEAR, AttributionModel.SHAPLEY):
            profiler = cProfile.Profile() if profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            report = await reports.partner_attribution(
                store,
                _Identity(),  # type: ignore[arg-type]
                actor,
                vendor_org=None,
                closed_from=YEAR_START,
                closed_to=YEAR_END,
                model=model,
                config=config,
                now=NOW,
            )
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            cells.append(f"{time.perf_counter() - start:,.1f}")
            assert report.won_deals == sum(1 for i in range(len(ids)) if i % 3), report.won_deals
        rng = random.Random(1)
        times: list[float] = []
        counts: list[int] = []
        deepest = 0
        for opportunity_id in rng.sample(ids, min(SAMPLES, len(ids))):
            start = time.perf_counter()
            _, found = await reports.influence_paths(
                store, actor, opportunity_id, config=config, now=NOW
            )
            times.append((time.perf_counter() - start) * 1000)
            counts.append(len(found))
            deepest = max([deepest, *(p.hops for p in found)])
        q = statistics.quantiles(times, n=100)
        cells += [
            f"{statistics.mean(counts):.1f} ({deepest})",
            f"{statistics.median(times):.1f}",
            f"{q[98]:.1f}",
            f"{rss_mib():,.0f}",
        ]
        return "| " + " | ".join(cells) + " |"
    finally:
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--won", default="10000", help="won deals, comma-separated sizes")
    parser.add_argument("--touches", default="200000,2000000")
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--edges", type=int, default=50, help="INTRODUCED edges (sparse)")
    parser.add_argument("--profile", action="store_true", help="cProfile the reports")
    args = parser.parse_args()
    print(
        "| store | won deals | touches | edges | load s | LINEAR s | SHAPLEY s "
        "| paths/deal (max hops) | influencePaths p50 ms | p99 ms | RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for backend in args.backends.split(","):
        for won in [int(w) for w in args.won.split(",")]:
            for touches in [int(t) for t in args.touches.split(",")]:
                with tempfile.TemporaryDirectory() as scratch:
                    line = await measure(
                        backend, won, touches, args.edges, Path(scratch), args.profile
                    )
                print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
