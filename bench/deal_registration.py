"""registerDeal through the HTTP API, checks on, against a trivial authenticated query
answered by the same server in the same run.

    .venv/bin/python -m bench.deal_registration --sizes 10000,1000000 [--backends sqlite,neo4j]
    (Neo4j: set BENCH_NEO4J_URL, or run through `bench/run deal_registration ...` which
    starts one; PostgreSQL: --backends postgresql with BENCH_POSTGRESQL_URL set.)

Per size N and backend, in a fresh store:

- one vendor with N accounts, account i keyed by the domain `co{i}.com`, loaded through
  `store.upsert_accounts` in batches of 10,000 with the keyed hash the server's keyring
  gives that domain (so registrations by domain find them); one account in 20 has an
  OPEN opportunity created before the run (registrations there get EXISTING_PIPELINE);
- PARTNERS ACTIVE partners, half exclusive (RESELLER, REFERRAL), half co-sellers (SI,
  ISV, INFLUENCER), each with a user logged in over HTTP;
- a real `tandem serve` (uvicorn, one process) on that store.

Then, at concurrency C (16), with one httpx client in this process:

1. baseline: `{ viewer { role } }` with the partners' tokens, REQUESTS times;
2. registerDeal, REQUESTS times, the mix drawn from a fixed seed: 50 % on a hot set of
   500 accounts (exclusive partners collide: DUPLICATE; co-sellers co-register), 25 %
   on any of the N accounts (the key lookup at scale), 25 % on new domains (a
   NEW_PROSPECT account is created for the vendor).

Each phase starts with a warm-up of 2C calls (not timed). Reported: calls per second
over the phase's wall time, latency p50 / p99 per call, errors (non-200, GraphQL errors
or payload errors: must be 0), and the outcome mix. Results: docs/benchmarks.md, "Deal
registration".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from strawberry.relay import to_base64
from ulid import ULID

from api.settings import Settings, load_settings
from api.stores import auth_config
from graph.deals import OpportunityStatus, OpportunityUpsert
from graph.factory import open_store
from graph.identity import Role
from graph.model import (
    AccountUpsert,
    HashedKey,
    KeyKind,
    OrgType,
    Partnership,
    PartnershipStatus,
)
from graph.port import ResettableStore
from graph.sql.identity import SqlIdentityStore
from resolvers import admin
from resolvers.clock import utcnow
from resolvers.ids import new_id

BATCH = 10_000
PARTNERS = 16
PASSWORD = "bench-password-not-secret"  # noqa: S105  (throwaway store)
PARTNER_TYPES = (
    OrgType.RESELLER,
    OrgType.SI,
    OrgType.REFERRAL,
    OrgType.ISV,
    OrgType.RESELLER,
    OrgType.INFLUENCER,
    OrgType.REFERRAL,
    OrgType.SI,
)
ROLE = {
    OrgType.RESELLER: "RESELLER",
    OrgType.REFERRAL: "REFERRAL",
    OrgType.SI: "SI",
    OrgType.ISV: "ISV",
    OrgType.INFLUENCER: "INFLUENCER",
}
HOT = 500
PIPELINE_EVERY = 20
POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT")

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token } }"""
VIEWER = "{ viewer { role } }"
REGISTER = """mutation($input: RegisterDealInput!) { registerDeal(input: $input) {
  registration { id status reasons } errors { code message } } }"""


# --- the store ------------------------------------------------------------------------


def bench_env(backend: str, scratch: Path) -> dict[str, str]:
    """The server's environment (TANDEM_*), also used to open the stores here."""
    env = {
        "TANDEM_SECRET": secrets.token_hex(32),
        "TANDEM_BCRYPT_COST": "4",
        "TANDEM_MODE": "DEVELOPMENT",
    }
    if backend == "sqlite":
        return {**env, "TANDEM_STORE_URL": f"sqlite+aiosqlite:///{scratch / 'bench.sqlite3'}"}
    if backend == "postgresql":
        return {**env, "TANDEM_STORE_URL": os.environ["BENCH_POSTGRESQL_URL"]}
    return {
        **env,
        "TANDEM_STORE_URL": os.environ["BENCH_NEO4J_URL"],
        "TANDEM_IDENTITY_URL": f"sqlite+aiosqlite:///{scratch / 'identity.sqlite3'}",
        "TANDEM_NEO4J_USER": os.environ.get("BENCH_NEO4J_USER", ""),
        "TANDEM_NEO4J_PASSWORD": os.environ.get("BENCH_NEO4J_PASSWORD", ""),
    }


def domain(i: int) -> str:
    return f"co{i}.com"


@dataclass
class World:
    vendor: str
    emails: list[str]  # partner users, in partner order
    roles: list[str]  # the role each partner registers with
    load_rate: float


async def build(settings: Settings, n: int) -> World:
    """Empty the stores, then load the vendor, its N accounts, pipeline and partners."""
    graph: ResettableStore = open_store(
        settings.store_url,
        neo4j_user=settings.neo4j_user,
        neo4j_password=settings.neo4j_password,
        allow_reset=True,
    )
    identity = SqlIdentityStore(settings.identity_url, allow_reset=True)
    keyring = settings.keyring
    try:
        await graph.apply_schema()
        await graph.reset()
        await identity.apply_schema()
        await identity.reset()
        now = utcnow()
        vendor = await admin.create_org(
            graph, name="Bench Vendor", types={OrgType.VENDOR}, region="NA",
            discoverable=False, now=now,
        )  # fmt: skip
        state = await graph.key_state()
        version = state.active_version
        start = time.perf_counter()
        for low in range(0, n, BATCH):
            rows = [
                AccountUpsert(
                    crm_id=f"crm-{i:08d}",
                    new_id=str(ULID()),
                    name=f"Company {i}",
                    owner=None,
                    populations=(POPULATIONS[i % 3],),
                    fields=(),
                    keys=(
                        HashedKey(KeyKind.DOMAIN, keyring.hash(KeyKind.DOMAIN, domain(i), version)),
                    ),
                )
                for i in range(low, min(n, low + BATCH))
            ]
            await graph.upsert_accounts(vendor.id, rows, expected_state=state, at=now)
            pipeline = [
                OpportunityUpsert(
                    crm_id=f"opp-{i:08d}",
                    new_id=new_id(),
                    account_crm_id=f"crm-{i:08d}",
                    name=f"Company {i} renewal",
                    amount=Decimal("48000.00"),
                    currency="USD",
                    stage="Proposal",
                    status=OpportunityStatus.OPEN,
                    created_at=now - timedelta(days=30),
                )
                for i in range(low, min(n, low + BATCH), PIPELINE_EVERY)
            ]
            await graph.upsert_opportunities(vendor.id, pipeline, at=now)
            if (low + BATCH) % 100_000 == 0:
                print(f"    {low + BATCH:,} accounts in {time.perf_counter() - start:,.0f} s")
        rate = n / (time.perf_counter() - start)
        emails, roles = [], []
        for p in range(PARTNERS):
            kind = PARTNER_TYPES[p % len(PARTNER_TYPES)]
            partner = await admin.create_org(
                graph, name=f"Bench Partner {p}", types={kind}, region="NA",
                discoverable=False, now=now,
            )  # fmt: skip
            pid = new_id()
            await graph.insert_partnership(
                Partnership(pid, partner.id, vendor.id, PartnershipStatus.INVITED, now, now)
            )
            await graph.transition_partnership(
                vendor.id,
                pid,
                expected=[PartnershipStatus.INVITED],
                new_status=PartnershipStatus.ACTIVE,
                at=now + timedelta(seconds=1),
            )
            email = f"partner{p}@bench.example.com"
            await admin.add_user(
                graph,
                identity,
                auth_config(settings),
                email=email,
                password=PASSWORD,
                display_name=f"Partner {p}",
                org_id=partner.id,
                role=Role.SALES_REP,
                now=now,
            )
            emails.append(email)
            roles.append(ROLE[kind])
        return World(vendor.id, emails, roles, rate)
    finally:
        await graph.close()
        await identity.close()


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(env: dict[str, str], scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "BENCH_"))}
    root = str(Path(__file__).resolve().parents[1])
    log = (scratch / "serve.log").open("wb")
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        cwd=scratch,
        env={**clean, "PYTHONPATH": root, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((scratch / "serve.log").read_text())
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"tandem serve did not become ready: {(scratch / 'serve.log').read_text()}")


# --- the load -------------------------------------------------------------------------


@dataclass
class Phase:
    calls: int
    seconds: float
    latencies: list[float]
    errors: int
    outcomes: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


def registrations(
    world: World, n: int, count: int, salt: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(partner, registerDeal input) pairs: hot accounts, any account, new prospects.
    Each input carries its kind under "_kind" (removed before sending)."""
    rng = random.Random(f"deal-bench/{n}")
    vendor = to_base64("Org", world.vendor)
    close = (utcnow() + timedelta(days=120)).date().isoformat()
    for k in range(count):
        partner = rng.randrange(len(world.emails))
        draw = rng.random()
        if draw < 0.5:
            kind, target = "hot", domain(rng.randrange(min(HOT, n)))
        elif draw < 0.75:
            kind, target = "any", domain(rng.randrange(n))
        else:
            kind, target = "new", f"new-{salt}-{k}.net"
        yield (
            partner,
            {
                "_kind": kind,
                "vendorId": vendor,
                "role": world.roles[partner],
                "amount": f"{rng.randrange(5_000, 500_000)}.00",
                "currency": "USD",
                "expectedClose": close,
                "productLine": "Platform",
                "domains": [target],
            },
        )


async def run_phase(
    client: httpx.AsyncClient,
    url: str,
    tokens: list[str],
    calls: list[tuple[int, dict[str, Any]]],
    concurrency: int,
    *,
    register: bool,
) -> Phase:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    errors = 0
    first_error = ""
    queue = iter(calls)

    async def worker() -> None:
        nonlocal errors, first_error
        for partner, variables in queue:
            kind = variables.get("_kind", "")
            sent = {k: v for k, v in variables.items() if k != "_kind"}
            body = (
                {"query": REGISTER, "variables": {"input": sent}} if register else {"query": VIEWER}
            )
            start = time.perf_counter()
            response = await client.post(
                f"{url}/graphql",
                json=body,
                headers={"authorization": f"Bearer {tokens[partner]}"},
            )
            latencies.append(time.perf_counter() - start)
            problem = _problem(response, register)
            if problem:
                errors += 1
                first_error = first_error or problem
            elif register:
                registration = response.json()["data"]["registerDeal"]["registration"]
                verdict = "+".join([registration["status"], *sorted(registration["reasons"])])
                outcomes[f"{kind}: {verdict}"] += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    return Phase(len(calls), seconds, latencies, errors, outcomes, first_error)


def _problem(response: httpx.Response, register: bool) -> str:
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    if body.get("errors"):
        return str(body["errors"])[:200]
    if register and body["data"]["registerDeal"]["errors"]:
        return str(body["data"]["registerDeal"]["errors"])[:200]
    return ""


@dataclass
class Result:
    size: int
    backend: str
    load_rate: float
    baseline: Phase
    register: Phase


async def drive(url: str, world: World, n: int, args: argparse.Namespace) -> Result:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        tokens = []
        for email in world.emails:
            response = await client.post(
                f"{url}/graphql",
                json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
            )
            tokens.append(response.json()["data"]["login"]["token"])
        warm = 2 * args.concurrency
        viewer_calls: list[tuple[int, dict[str, Any]]] = [
            (k % PARTNERS, {}) for k in range(args.requests)
        ]
        await run_phase(client, url, tokens, viewer_calls[:warm], args.concurrency, register=False)
        baseline = await run_phase(
            client, url, tokens, viewer_calls, args.concurrency, register=False
        )
        warmup = list(registrations(world, n, warm, "warm"))
        await run_phase(client, url, tokens, warmup, args.concurrency, register=True)
        calls = list(registrations(world, n, args.requests, "run"))
        register = await run_phase(client, url, tokens, calls, args.concurrency, register=True)
    return Result(n, "", world.load_rate, baseline, register)


async def measure(backend: str, n: int, scratch: Path, args: argparse.Namespace) -> Result:
    env = bench_env(backend, scratch)
    settings = load_settings(env)
    world = await build(settings, n)
    print(f"  {backend} {n:,}: loaded at {world.load_rate:,.0f} accounts/s", flush=True)
    process, url = start_server(env, scratch)
    try:
        result = await drive(url, world, n, args)
    finally:
        process.terminate()
        process.wait(timeout=60)
    result.backend = backend
    return result


HEADER = (
    "| existing accounts | store | registrations/s | p50 ms | p99 ms | errors "
    "| baseline queries/s | p50 ms | p99 ms | throughput ratio |\n"
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def row_text(r: Result) -> str:
    reg, base = r.register, r.baseline
    return (
        f"| {r.size:,} | {r.backend} | {reg.rate:,.0f} | {reg.percentile(50):,.1f} "
        f"| {reg.percentile(99):,.1f} | {reg.errors} | {base.rate:,.0f} "
        f"| {base.percentile(50):,.1f} | {base.percentile(99):,.1f} "
        f"| {base.rate / reg.rate:.1f}x |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--requests", type=int, default=2_000, help="calls per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory() as scratch:
                result = await measure(backend, n, Path(scratch), args)
            results.append(result)
            print(row_text(result), flush=True)
            if result.register.errors or result.baseline.errors:
                print(f"    errors: {result.register.first_error or result.baseline.first_error}")
            mix = ", ".join(f"{k} {v}" for k, v in result.register.outcomes.most_common())
            print(f"    outcomes: {mix}", flush=True)
    print(
        f"\nconcurrency {args.concurrency}; {args.requests:,} calls per phase after "
        f"{2 * args.concurrency} warm-up calls; {PARTNERS} partners; one server process"
    )
    print(HEADER)
    for result in results:
        print(row_text(result))


if __name__ == "__main__":
    asyncio.run(main())
