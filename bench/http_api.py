"""Throughput and latency of three GraphQL operations over HTTP, against a bare Starlette
JSON endpoint that calls the same service functions, measured in the same run.

    .venv/bin/python -m bench.http_api [--docs docs/benchmarks.md]
    bench/run http_api ...   (the same; needs no Neo4j)

Needs `wrk` (Debian: `apt-get install -y wrk`).

The store (SQLite, embedded, in a scratch directory) is built through the services:
a vendor and PARTNERS partner orgs with ACTIVE partnerships (invited and accepted), an
admin user in each; the vendor and the first partner get ACCOUNTS accounts each through
the account write path (normalized, hashed), every other one shared by domain; that
partner shares all three populations with the vendor at OVERLAPS or DETAILS; the vendor
has a WON opportunity that every partner touched TOUCHES times. The vendor's admin logs
in over HTTP (the `login` mutation); its session token drives the load.

Operations (the vendor's admin asking):

- viewer: `viewer { role scope tokenKind user { ... } org { ... } }`;
- overlaps: the first 50-row page of `overlaps` with the partner, with partner details;
- attribution: `attribution(model: LINEAR)` of the touched opportunity.

For each worker count (1, 2) both servers run as real processes: `tandem serve
--workers W` and `uvicorn bench.http_baseline:create_app --factory --workers W`
(bench/http_baseline.py, the same uvicorn and settings). Before the cells, the baseline's
answer to each operation is asserted equal to GraphQL's. Each cell (operation x
concurrency x server) checks one response (HTTP 200, no errors, the expected rows), runs
`wrk` for WARMUP seconds (discarded) and then DURATION seconds with C connections on one
wrk thread; GraphQL and baseline cells alternate, so drift on the shared machine hits
both. wrk counts a response as an error unless it is HTTP 200 without "errors" in it.
Latency percentiles are wrk's own distribution. CPU: wrk is pinned to the last CPU;
with one worker the servers are pinned to the other CPUs; the CPU time of wrk and of the
server's process tree during each timed run is reported (percent of one core), so a
saturated load generator would show.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from strawberry.relay import to_base64

from api.settings import load_settings
from api.stores import auth_config, open_stores
from graph.deals import OpportunityStatus
from graph.identity import Role
from graph.model import OrgType, SharingLevel
from graph.touches import TouchKind
from resolvers import admin, partnerships, sharing
from resolvers.accounts import AccountInput, write_rows
from resolvers.clock import utcnow
from resolvers.deals.opportunities import OpportunityInput, upsert_opportunities
from resolvers.influence import touches
from resolvers.influence.touches import TouchInput

ROOT = Path(__file__).resolve().parents[1]
PARTNERS = 4
TOUCHES = 3  # per partner on the attributed opportunity
PAGE = 50
BATCH = 5_000
PASSWORD = "bench-password-not-secret"  # noqa: S105  (throwaway store)
PARTNER_TYPES = (OrgType.RESELLER, OrgType.SI, OrgType.ISV, OrgType.REFERRAL)
POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT")
INDUSTRIES = ("Software", "Retail", "Finance")
TOUCH_KINDS = (TouchKind.CO_SELL_MEETING, TouchKind.TECHNICAL_WIN, TouchKind.REFERRAL)
OPS = ("viewer", "overlaps", "attribution")
SERVERS = ("graphql", "bare")

LOGIN = """mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token } }"""
QUERIES = {
    "viewer": """query Viewer { viewer { role scope tokenKind
  user { id email displayName } org { id name types region } } }""",
    "overlaps": """query Overlaps($partnerId: ID!, $first: Int) {
  overlaps(partnerId: $partnerId, first: $first) {
    edges { cursor node {
      account { id crmId name owner populations fields { name value } }
      partnerPopulations
      partnerDetails { populations owner fields { name value } } } }
    pageInfo { hasNextPage endCursor } } }""",
    "attribution": """query Attribution($opportunityId: ID!, $model: AttributionModel!) {
  attribution(opportunityId: $opportunityId, model: $model) {
    model amount currency credits { share amount partner { id name } } } }""",
}


# --- the store ------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    email: str  # the vendor's admin
    partner: str  # global id of the partner whose overlaps are listed
    opportunity: str  # global id of the attributed opportunity

    def variables(self, op: str) -> dict[str, Any]:
        if op == "overlaps":
            return {"partnerId": self.partner, "first": PAGE}
        if op == "attribution":
            return {"opportunityId": self.opportunity, "model": "LINEAR"}
        return {}


def bench_env(scratch: Path) -> dict[str, str]:
    """The servers' environment (TANDEM_*), also used to build the store here."""
    return {
        "TANDEM_SECRET": secrets.token_hex(32),
        "TANDEM_BCRYPT_COST": "4",
        "TANDEM_MODE": "DEVELOPMENT",
        "TANDEM_STORE_URL": f"sqlite+aiosqlite:///{scratch / 'bench.sqlite3'}",
    }


def _accounts(prefix: str, n: int, *, shared_every: int) -> Iterator[AccountInput]:
    """Account i has the domain co{i}.com when i is a multiple of `shared_every` (both
    orgs then have it), else one of its own; populations and industries rotate."""
    for i in range(n):
        own = i % shared_every
        domain = f"co{i}.com" if own == 0 else f"{prefix}{i}.example.net"
        yield AccountInput(
            crm_id=f"{prefix}-{i:08d}",
            name=f"Company {i}",
            owner=f"rep{i % 7}@{prefix}.example.com",
            populations=(POPULATIONS[(i // shared_every) % 3],),
            domains=(domain,),
            fields=(("industry", INDUSTRIES[i % 3]),),
        )


async def build(env: dict[str, str], accounts: int) -> World:
    """The world, through the services (see the module docstring)."""
    settings = load_settings(env)
    stores = open_stores(settings)
    try:
        await stores.apply_schema()
        graph, identity = stores.graph, stores.identity
        now = utcnow()
        vendor = await admin.create_org(
            graph, name="Bench Vendor", types={OrgType.VENDOR}, region="NA",
            discoverable=False, now=now,
        )  # fmt: skip
        actors = []
        orgs = [vendor.id]
        for p in range(PARTNERS):
            partner = await admin.create_org(
                graph, name=f"Bench Partner {p}", types={PARTNER_TYPES[p % 4]}, region="NA",
                discoverable=False, now=now,
            )  # fmt: skip
            orgs.append(partner.id)
        for index, org in enumerate(orgs):
            email = f"admin{index}@bench.example.com"
            await admin.add_user(
                graph, identity, auth_config(settings), email=email, password=PASSWORD,
                display_name=f"Admin {index}", org_id=org, role=Role.ADMIN, now=now,
            )  # fmt: skip
            actors.append(await admin.acting_as(identity, email=email, org_id=org))
        me, partner_actors = actors[0], actors[1:]
        for actor in partner_actors:
            invited = await partnerships.invite(graph, identity, me, org_id=actor.org_id, now=now)
            await partnerships.respond(
                graph, identity, actor, partnership_id=invited.id, accept=True, now=now
            )
        for population in POPULATIONS:
            details = population == "CUSTOMER"
            await sharing.set_rule(
                graph,
                identity,
                partner_actors[0],
                partner_id=vendor.id,
                population=population,
                level=SharingLevel.DETAILS if details else SharingLevel.OVERLAPS,
                fields=("industry", "owner") if details else (),
                now=now,
            )
        for org, prefix in ((vendor.id, "v"), (orgs[1], "p")):
            rows = list(_accounts(prefix, accounts, shared_every=2))
            for low in range(0, len(rows), BATCH):
                await write_rows(graph, org, settings.keyring, rows[low : low + BATCH], now=now)
        closed = now - timedelta(days=10)
        written = await upsert_opportunities(
            graph,
            identity,
            me,
            [
                OpportunityInput(
                    crm_id="opp-bench",
                    account_crm_id="v-00000000",
                    name="Company 0 platform deal",
                    amount=Decimal("120000.00"),
                    currency="USD",
                    stage="Closed Won",
                    status=OpportunityStatus.WON,
                    created_at=closed - timedelta(days=120),
                    closed_at=closed,
                )
            ],
            now=now,
        )
        opportunity = written.results[0].opportunity_id
        assert opportunity is not None, written.results
        recorded = await touches.record(
            graph,
            identity,
            me,
            [
                TouchInput(
                    external_id=f"touch-{p}-{t}",
                    kind=TOUCH_KINDS[t % len(TOUCH_KINDS)],
                    at=closed - timedelta(days=100 - 30 * t - p),
                    partner_org=actor.org_id,
                    opportunity_id=opportunity,
                )
                for p, actor in enumerate(partner_actors)
                for t in range(TOUCHES)
            ],
            now=now,
        )
        assert all(r.touch_id for r in recorded), recorded
        return World(
            email="admin0@bench.example.com",
            partner=to_base64("Org", orgs[1]),
            opportunity=to_base64("Opportunity", opportunity),
        )
    finally:
        await stores.close()


# --- requests and answers -------------------------------------------------------------


def request_of(server: str, op: str, world: World) -> tuple[str, dict[str, Any]]:
    """The path and JSON body of one call of `op` on `server`."""
    if server == "graphql":
        return "/graphql", {"query": QUERIES[op], "variables": world.variables(op)}
    return f"/{op}", world.variables(op)


def problem(op: str, response: httpx.Response) -> str:
    """Why the answer is wrong; "" when it is a success with the expected rows."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    body = response.json()
    if body.get("errors"):
        return str(body["errors"])[:300]
    data = body["data"]
    if op == "viewer" and data["viewer"]["role"] != "ADMIN":
        return f"viewer: {data['viewer']}"
    if op == "overlaps" and len(data["overlaps"]["edges"]) != PAGE:
        return f"overlaps: {len(data['overlaps']['edges'])} rows, expected {PAGE}"
    if op == "attribution" and len(data["attribution"]["credits"]) != PARTNERS:
        return f"attribution: {len(data['attribution']['credits'])} credits, expected {PARTNERS}"
    return ""


def call(url: str, server: str, op: str, world: World, token: str) -> httpx.Response:
    path, body = request_of(server, op, world)
    return httpx.post(
        f"{url}{path}", json=body, headers={"authorization": f"Bearer {token}"}, timeout=60
    )


def login(url: str, email: str) -> str:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": LOGIN, "variables": {"email": email, "password": PASSWORD}},
        timeout=60,
    )
    token: str = response.json()["data"]["login"]["token"]
    return token


# --- the servers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def _command(server: str, port: int, workers: int) -> list[str]:
    if server == "graphql":
        command = [sys.executable, "-m", "api", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "uvicorn", "bench.http_baseline:create_app"]
        command += ["--factory", "--no-access-log", "--port", str(port)]
    return [*command, "--workers", str(workers)]


@contextmanager
def serving(
    env: dict[str, str], workers: int, scratch: Path, cpus: str | None
) -> Iterator[dict[str, tuple[str, int]]]:
    """Both servers as real processes, started together: {server: (url, pid)}."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TANDEM_", "BENCH_"))}
    processes: dict[str, tuple[subprocess.Popen[bytes], int, Path]] = {}
    try:
        for server in SERVERS:
            port = free_port()
            log_path = scratch / f"{server}-{workers}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
                    _pinned(_command(server, port, workers), cpus),
                    cwd=scratch,
                    env={**clean, "PYTHONPATH": str(ROOT), **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            processes[server] = (process, port, log_path)
        deadline = time.monotonic() + 120
        for server, (process, port, log_path) in processes.items():
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{server} did not start: {log_path.read_text()[-2000:]}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    time.sleep(0.2)
        yield {s: (f"http://127.0.0.1:{port}", p.pid) for s, (p, port, _) in processes.items()}
    finally:
        for process, _, _ in processes.values():
            process.terminate()
        for process, _, _ in processes.values():
            process.wait(timeout=60)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


# --- the load -------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[%(body)s]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"

local threads = {}
function setup(thread) table.insert(threads, thread) end

bad = 0
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %%d, "duration_us": %%d, "p50_us": %%.1f, "p99_us": %%.1f, ' ..
    '"bad": %%d, "socket": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    total, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Cell:
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    errors: int
    wrk_cpu: float  # percent of one core
    server_cpu: float


def run_wrk(
    url: str, path: str, body: dict[str, Any], token: str, *, connections: int, seconds: int,
    cpu: str | None, scratch: Path, server_pid: int,
) -> Cell:  # fmt: skip
    script = scratch / "bench.lua"
    script.write_text(WRK_SCRIPT % {"body": json.dumps(body), "token": token})
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s"]
    command += ["-s", str(script), f"{url}{path}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    served = tree_cpu_seconds(server_pid)
    done = subprocess.run(  # noqa: S603  (wrk, with our arguments)
        _pinned(command, cpu), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stdout}{done.stderr}")
    served = tree_cpu_seconds(server_pid) - served
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK "))
    found = json.loads(line[4:])
    wall = found["duration_us"] / 1e6
    spent = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Cell(
        rate=found["requests"] / wall,
        p50_ms=found["p50_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        errors=found["bad"] + found["socket"],
        wrk_cpu=100 * spent / wall,
        server_cpu=100 * served / wall,
    )


@dataclass(frozen=True)
class Row:
    op: str
    workers: int
    connections: int
    graphql: Cell
    bare: Cell


def measure(
    world: World, env: dict[str, str], scratch: Path, args: argparse.Namespace
) -> Iterator[Row]:
    cpus = os.cpu_count() or 1
    wrk_cpu = str(cpus - 1) if args.pin else None
    token = ""
    flip = False
    for workers in args.workers:
        server_cpus = f"0-{cpus - 2}" if args.pin and workers == 1 and cpus > 1 else None
        with serving(env, workers, scratch, server_cpus) as urls:
            token = token or login(urls["graphql"][0], world.email)
            for op in args.ops:
                answers = {}
                for server, (url, _) in urls.items():
                    response = call(url, server, op, world, token)
                    if trouble := problem(op, response):
                        raise RuntimeError(f"{server} {op}: {trouble}")
                    answers[server] = response.json()
                if answers["graphql"] != answers["bare"]:
                    raise RuntimeError(f"{op}: the baseline's answer differs from GraphQL's")
            for op in args.ops:
                for connections in args.concurrency:
                    cells = {}
                    # Alternate which server goes first, so slow drift on the shared
                    # machine does not always favour the same one.
                    flip = not flip
                    for server in SERVERS[::-1] if flip else SERVERS:
                        url, pid = urls[server]
                        if trouble := problem(op, call(url, server, op, world, token)):
                            raise RuntimeError(f"{server} {op}: {trouble}")
                        path, body = request_of(server, op, world)
                        common = {
                            "connections": connections, "cpu": wrk_cpu, "scratch": scratch,
                            "server_pid": pid,
                        }  # fmt: skip
                        if args.warmup > 0:
                            run_wrk(url, path, body, token, seconds=args.warmup, **common)
                        cells[server] = run_wrk(
                            url, path, body, token, seconds=args.duration, **common
                        )
                    row = Row(op, workers, connections, cells["graphql"], cells["bare"])
                    print(row_text(row), flush=True)
                    yield row


# --- the report -----------------------------------------------------------------------

HEADER = (
    "| operation | workers | connections | GraphQL req/s | p50 ms | p99 ms | errors "
    "| bare req/s | p50 ms | p99 ms | errors | req/s GraphQL/bare | p50 GraphQL/bare "
    "| within 2x | server CPU % GraphQL / bare | wrk CPU % |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
)


def row_text(r: Row) -> str:
    g, b = r.graphql, r.bare
    if g.rate and b.rate:
        rate, p50 = g.rate / b.rate, g.p50_ms / b.p50_ms
        ratios = f"{rate:.2f} | {p50:.2f}x | {'yes' if rate >= 0.5 and p50 <= 2 else 'no'}"
    else:  # no call finished within the cell: far too short a --duration
        ratios = "n/a | n/a | n/a"
    return (
        f"| {r.op} | {r.workers} | {r.connections} | {g.rate:,.0f} | {g.p50_ms:,.1f} "
        f"| {g.p99_ms:,.1f} | {g.errors} | {b.rate:,.0f} | {b.p50_ms:,.1f} | {b.p99_ms:,.1f} "
        f"| {b.errors} | {ratios} "
        f"| {g.server_cpu:.0f} / {b.server_cpu:.0f} | {max(g.wrk_cpu, b.wrk_cpu):.0f} |"
    )


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607  (git from PATH)
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def report(rows: Sequence[Row], args: argparse.Namespace, notes: dict[str, str]) -> str:
    command = " ".join(["bench/run http_api", *args.argv]).strip()
    cpus = os.cpu_count() or 1
    pinning = (
        f"wrk (one thread) pinned to CPU {cpus - 1}; with 1 worker both servers pinned to "
        f"CPU{'s' if cpus > 2 else ''} 0{f'-{cpus - 2}' if cpus > 2 else ''}, with 2 "
        "workers unpinned (sharing wrk's CPU)"
        if args.pin
        else "nothing pinned"
    )
    lines = [
        "    " + command,
        "",
        f"Commit {_commit()}, {notes['date']}; {cpus} CPUs, {platform.python_version()}, "
        f"SQLite store with {args.accounts:,} accounts per org; {args.warmup} s warm-up "
        f"then {args.duration} s per cell; {pinning}. Load average (1/5/15 min) "
        f"{notes['load_before']} before, {notes['load_after']} after.",
        "",
        HEADER,
        *(row_text(r) for r in rows),
    ]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench.http_api: begin -->", "<!-- bench.http_api: end -->"


def write_docs(path: Path, text: str) -> None:
    """Put `text` between the markers in `path` (appended with them the first time)."""
    current = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{text}{END}\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        current = head + block + tail.removeprefix("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + block
    path.write_text(current)


def _list(kind: type, choices: Sequence[str] | None = None) -> Any:
    def parse(text: str) -> list[Any]:
        values = [kind(v) for v in text.split(",") if v]
        if choices and (bad := [v for v in values if v not in choices]):
            raise argparse.ArgumentTypeError(f"unknown {bad}; use {','.join(choices)}")
        return values

    return parse


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=_list(str, OPS), default=list(OPS))
    parser.add_argument("--concurrency", type=_list(int), default=[1, 16, 64])
    parser.add_argument("--workers", type=_list(int), default=[1, 2])
    parser.add_argument("--duration", type=int, default=5, help="timed seconds per cell")
    parser.add_argument("--warmup", type=int, default=2, help="untimed seconds per cell")
    parser.add_argument("--accounts", type=int, default=5_000, help="per org (>= 2 x 50)")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--docs", type=Path, help="also write the section into this file")
    args = parser.parse_args(argv)
    if args.accounts < 2 * PAGE:
        parser.error(f"--accounts must be at least {2 * PAGE} for a {PAGE}-row page")
    args.argv = list(argv)
    return args


def main(argv: Sequence[str] | None = None) -> str:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as scratch:
        env = bench_env(Path(scratch))
        start = time.perf_counter()
        world = asyncio.run(build(env, args.accounts))
        print(f"store built in {time.perf_counter() - start:,.1f} s", flush=True)
        notes = {"load_before": _loadavg(), "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}
        print(HEADER, flush=True)
        rows = list(measure(world, env, Path(scratch), args))
        notes["load_after"] = _loadavg()
    text = report(rows, args, notes)
    print()
    print(text)
    if args.docs:
        write_docs(args.docs, text)
    return text


if __name__ == "__main__":
    main()
