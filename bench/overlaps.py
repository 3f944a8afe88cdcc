"""Overlap reads between two orgs of N accounts each (N/2 in common), against a DuckDB
hash join over the same stored key hashes, measured in the same run.

    .venv/bin/python -m bench.overlaps --sizes 10000,100000,1000000 [--backends sqlite,neo4j]
    (Neo4j: set BENCH_NEO4J_URL, or run through `bench/run overlaps ...` which starts one.)

Per size and backend: both orgs are loaded through `store.upsert_accounts` in batches of
10,000 with ready-made key hashes (loading is not what is measured), then two reads are
timed, each the median of 3 runs after a warm-up run:

- the matrix: `store.overlap_matrix(a, b, kinds=(DOMAIN, DUNS))`, cold (the store's
  matrix cache emptied before every call, so each call computes) and warm (served from
  the cache after its per-read version check);
- the first page: `store.overlapping_accounts(a, b, <all three populations>, first=50)`.

The baseline copies the stored (org, account id, hash, kind) links and (account id,
population) memberships out of the store (not timed) into in-memory DuckDB tables and
times the same two questions as plain SQL: distinct account pairs sharing a hash, joined
to both sides' populations, COUNT(DISTINCT) per population pair; and my first 50
overlapping accounts by id with their partner accounts. The answers must agree.

`--explain` also prints the query plans the stores run (SQLite: EXPLAIN QUERY PLAN of
the statements the store sends; Neo4j: PROFILE of the adapter's Cypher). `--analyze`
times SQLite a second time after ANALYZE (row `sqlite+analyze`), which the store never
runs. Results: docs/benchmarks.md, "Overlaps".
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from neo4j import AsyncGraphDatabase
from sqlalchemy import event
from ulid import ULID

from bench.memory import peak_rss
from graph.factory import open_store
from graph.model import AccountUpsert, HashedKey, KeyKind, OverlapCell, OverlapMatch, Page
from graph.neo4j import cypher
from graph.port import ResettableStore
from resolvers.clock import utcnow
from tests.factories import make_org

T = TypeVar("T")

POPULATIONS = ("CUSTOMER", "OPEN_OPPORTUNITY", "PROSPECT")
KINDS = (KeyKind.DOMAIN, KeyKind.DUNS)
BATCH = 10_000
PAGE = 50
RUNS = 3


# --- the data -------------------------------------------------------------------------


def hashed(kind: KeyKind, canonical: str) -> HashedKey:
    """A stand-in for the keyed hash: same shape (64 hex), far cheaper to make."""
    return HashedKey(kind, hashlib.sha256(f"{kind.value}:{canonical}".encode()).hexdigest())


def populations(side: str, i: int) -> tuple[str, ...]:
    """Org "a" cycles i % 3 and org "b" (i // 6) % 3, so the shared (even) accounts fill
    all nine cells; one account in ten is in a second population as well."""
    first = i % 3 if side == "a" else (i // 6) % 3
    if i % 10 == (0 if side == "a" else 4):
        return (POPULATIONS[first], POPULATIONS[(first + 1) % 3])
    return (POPULATIONS[first],)


def account_batches(side: str, n: int) -> Iterator[list[AccountUpsert]]:
    """Org `side`'s N accounts. Even i share their domain with the other org's account i
    (N/2 in common, spread evenly through the id order); one in three has a DUNS too,
    shared alongside the domain for the shared accounts (such pairs share two keys)."""
    for start in range(0, n, BATCH):
        batch = []
        for i in range(start, min(n, start + BATCH)):
            label = f"co{i}" if i % 2 == 0 else f"{side}{i}"
            keys = [hashed(KeyKind.DOMAIN, f"{label}.com")]
            if i % 3 == 0:
                keys.append(hashed(KeyKind.DUNS, f"duns-{label}"))
            batch.append(
                AccountUpsert(
                    crm_id=f"crm-{i:08d}",
                    new_id=str(ULID()),
                    name=f"Company {side}{i}",
                    owner=None,
                    populations=populations(side, i),
                    fields=(),
                    keys=tuple(keys),
                )
            )
        yield batch


async def load(store: ResettableStore, n: int) -> tuple[str, str, float]:
    """Both orgs into an empty store; returns their ids and the load rate (rows/s)."""
    a, b = make_org("Bench A"), make_org("Bench B")
    await store.create_org(a)
    await store.create_org(b)
    state = await store.key_state()
    start = time.perf_counter()
    done = 0
    for side, org in (("a", a), ("b", b)):
        for batch in account_batches(side, n):
            await store.upsert_accounts(org.id, batch, expected_state=state, at=utcnow())
            done += len(batch)
            if done % 200_000 == 0:
                elapsed = time.perf_counter() - start
                print(f"    {done:,} loaded in {elapsed:,.0f} s", flush=True)
    return a.id, b.id, 2 * n / (time.perf_counter() - start)


# --- timing ---------------------------------------------------------------------------


async def timed(
    call: Callable[[], Awaitable[T]], before: Callable[[], None] = lambda: None
) -> tuple[float, T]:
    """Median milliseconds of RUNS calls after a warm-up call, and the last answer;
    `before` runs (untimed) ahead of every call."""
    before()
    answer = await call()
    times = []
    for _ in range(RUNS):
        before()
        start = time.perf_counter()
        answer = await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, answer


def timed_sync(call: Callable[[], T]) -> tuple[float, T]:
    answer = call()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        answer = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, answer


# --- the DuckDB baseline --------------------------------------------------------------

KIND_VALUES = [k.value for k in KINDS]
# KINDS and POPULATIONS appear in the SQL as literals, which DuckDB folds best.

DUCK_MATRIX = """
WITH pairs AS (
    SELECT DISTINCT m.account_id AS mine, t.account_id AS theirs
    FROM account_keys m JOIN account_keys t ON t.h = m.h
    WHERE m.org_id = $a AND t.org_id = $b AND m.kind IN ('DOMAIN', 'DUNS')
      AND t.kind IN ('DOMAIN', 'DUNS')
)
SELECT mp.population, tp.population, count(DISTINCT pairs.mine), count(DISTINCT pairs.theirs)
FROM pairs
JOIN account_populations mp ON mp.account_id = pairs.mine
JOIN account_populations tp ON tp.account_id = pairs.theirs
GROUP BY ALL
ORDER BY 1, 2
"""

# My first PAGE overlapping accounts by id, then their partner accounts in the requested
# populations (the store's page carries the same).
DUCK_FIRST_PAGE = """
WITH matches AS (
    SELECT m.account_id AS mine, t.account_id AS theirs, tp.population
    FROM account_keys m
    JOIN account_keys t ON t.h = m.h
    JOIN account_populations tp ON tp.account_id = t.account_id
    WHERE m.org_id = $a AND t.org_id = $b AND m.kind IN ('DOMAIN', 'DUNS')
      AND t.kind IN ('DOMAIN', 'DUNS')
      AND tp.population IN ('CUSTOMER', 'OPEN_OPPORTUNITY', 'PROSPECT')
), page AS (
    SELECT DISTINCT mine FROM matches ORDER BY mine LIMIT $limit
)
SELECT DISTINCT matches.mine, matches.theirs, matches.population
FROM page JOIN matches ON matches.mine = page.mine
ORDER BY 1, 2, 3
"""

DUCK_OVERLAPPING = """
SELECT count(DISTINCT m.account_id)
FROM account_keys m JOIN account_keys t ON t.h = m.h
WHERE m.org_id = $a AND t.org_id = $b
"""


def export_sqlite(path: Path, orgs: list[str], scratch: Path) -> tuple[Path, Path]:
    """The two orgs' key links and memberships as CSV, read with plain sqlite3."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    marks = ",".join("?" * len(orgs))
    try:
        keys = _write_csv(
            scratch / "keys.csv",
            ("org_id", "account_id", "h", "kind"),
            db.execute(
                f"SELECT org_id, account_id, h, kind FROM account_keys "  # noqa: S608
                f"WHERE org_id IN ({marks})",
                orgs,
            ),
        )
        pops = _write_csv(
            scratch / "populations.csv",
            ("org_id", "account_id", "population"),
            db.execute(
                f"SELECT org_id, account_id, population FROM account_populations "  # noqa: S608
                f"WHERE org_id IN ({marks})",
                orgs,
            ),
        )
    finally:
        db.close()
    return keys, pops


async def export_neo4j(url: str, orgs: list[str], scratch: Path) -> tuple[Path, Path]:
    """The same from Neo4j, with the bench's own simple MATCHes."""
    driver = AsyncGraphDatabase.driver(url, auth=_neo4j_auth(), notifications_min_severity="OFF")
    try:
        async with driver.session(database="neo4j") as session:
            result = await session.run(
                "MATCH (a:Account)-[:KEYED_BY]->(k:AccountKey) WHERE a.org_id IN $orgs "
                "RETURN a.org_id, a.id, k.h, k.kind",
                orgs=orgs,
            )
            keys = _write_csv(
                scratch / "keys.csv",
                ("org_id", "account_id", "h", "kind"),
                [r.values() async for r in result],
            )
            result = await session.run(
                "MATCH (a:Account) WHERE a.org_id IN $orgs "
                "UNWIND a.populations AS p RETURN a.org_id, a.id, p",
                orgs=orgs,
            )
            pops = _write_csv(
                scratch / "populations.csv",
                ("org_id", "account_id", "population"),
                [r.values() async for r in result],
            )
    finally:
        await driver.close()
    return keys, pops


def _write_csv(path: Path, header: tuple[str, ...], rows: Any) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def duck_tables(keys: Path, pops: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(
        "CREATE TABLE account_keys AS SELECT * FROM read_csv($p, header = true, columns = "
        "{'org_id': 'VARCHAR', 'account_id': 'VARCHAR', 'h': 'VARCHAR', 'kind': 'VARCHAR'})",
        {"p": str(keys)},
    )
    con.execute(
        "CREATE TABLE account_populations AS SELECT * FROM read_csv($p, header = true, "
        "columns = {'org_id': 'VARCHAR', 'account_id': 'VARCHAR', 'population': 'VARCHAR'})",
        {"p": str(pops)},
    )
    return con


# --- checks ---------------------------------------------------------------------------


def check_matrix(cells: list[OverlapCell], rows: list[tuple[Any, ...]]) -> None:
    store = [(c.my_population, c.partner_population, c.my_count, c.partner_count) for c in cells]
    assert store == [tuple(r) for r in rows], (store, rows)


def check_page(page: Page[OverlapMatch], rows: list[tuple[str, str, str]]) -> None:
    """Same accounts in the same order, each with the same partner accounts (by their
    requested populations: PartnerMatch carries no id)."""
    by_mine: dict[str, dict[str, list[str]]] = {}
    for mine, theirs, population in rows:
        by_mine.setdefault(mine, {}).setdefault(theirs, []).append(population)
    assert [m.account.id for m in page.items] == list(by_mine), "first page accounts differ"
    assert page.has_next
    for match in page.items:
        expected = sorted(tuple(sorted(p)) for p in by_mine[match.account.id].values())
        assert sorted(p.populations for p in match.partner) == expected, match.account.id


# --- plans (--explain) ----------------------------------------------------------------


async def explain_sqlite(store: Any, path: Path, a: str, b: str) -> None:
    """EXPLAIN QUERY PLAN of each statement the store sends for the two reads."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sent.append((statement, params))

    engine = store._engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await store.overlap_matrix(a, b, kinds=KINDS)
        matrix_sent = len(sent)
        await store.overlapping_accounts(
            a, b, partner_populations=list(POPULATIONS), kinds=KINDS, first=PAGE
        )
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for number, (statement, params) in enumerate(sent):
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            label = "overlap_matrix" if number < matrix_sent else "overlapping_accounts"
            print(f"  [{label}] {' '.join(statement.split())[:160]}...")
            for row in db.execute(f"EXPLAIN QUERY PLAN {statement}", params):
                print(f"      {row[-1]}")
    finally:
        db.close()


async def explain_neo4j(url: str, a: str, b: str) -> None:
    kinds = sorted(KIND_VALUES)
    driver = AsyncGraphDatabase.driver(url, auth=_neo4j_auth(), notifications_min_severity="OFF")
    statements: list[tuple[str, str, dict[str, Any]]] = [
        ("overlap_matrix", cypher.OVERLAP_MATRIX, {"org": a, "other": b, "kinds": kinds}),
        (
            "overlapping_accounts",
            cypher.OVERLAPPING_ACCOUNTS,
            {
                "org": a,
                "partner": b,
                "after": "",
                "population": None,
                "populations": list(POPULATIONS),
                "kinds": kinds,
                "limit": PAGE + 1,
                "starts": None,
                "contains": None,
                "owner": None,
            },
        ),
    ]
    try:
        async with driver.session(database="neo4j") as session:
            for label, query, params in statements:
                result = await session.run("PROFILE " + query, params)
                summary = await result.consume()
                print(f"  [{label}] total db hits {_db_hits(summary.profile)}")
                _print_profile(summary.profile, 3)
    finally:
        await driver.close()


def _db_hits(plan: Any) -> int:
    return int(plan.get("dbHits", 0)) + sum(_db_hits(c) for c in plan.get("children", []))


def _print_profile(plan: Any, depth: int) -> None:
    args = plan.get("args", {})
    details = args.get("Details", "")
    print(
        f"{' ' * depth}{plan['operatorType']}: rows {plan.get('rows', '?')}, "
        f"db hits {plan.get('dbHits', '?')}  {str(details)[:110]}"
    )
    for child in plan.get("children", []):
        _print_profile(child, depth + 2)


def _neo4j_auth() -> tuple[str, str] | None:
    user = os.environ.get("BENCH_NEO4J_USER")
    return (user, os.environ.get("BENCH_NEO4J_PASSWORD", "")) if user else None


# --- one size on one backend ----------------------------------------------------------


@dataclass
class StoreTimes:
    matrix_ms: float  # cold: the store's matrix cache emptied before every call
    warm_ms: float  # warm: served from the cache after the versions check
    page_ms: float
    rss: float
    cells: list[OverlapCell]
    page: Page[OverlapMatch]


@dataclass
class Result:
    size: int
    backend: str
    load_rate: float
    store: StoreTimes
    duck_matrix_ms: float
    duck_page_ms: float
    duck_rss: float


def open_backend(backend: str, sqlite_path: Path) -> ResettableStore:
    if backend == "sqlite":
        return open_store(f"sqlite+aiosqlite:///{sqlite_path}", allow_reset=True)
    return open_store(
        os.environ["BENCH_NEO4J_URL"],
        neo4j_user=os.environ.get("BENCH_NEO4J_USER"),
        neo4j_password=os.environ.get("BENCH_NEO4J_PASSWORD"),
        allow_reset=True,
    )


async def store_times(store: ResettableStore, a: str, b: str) -> StoreTimes:
    cache = getattr(store, "matrix_cache", None)
    with peak_rss() as memory:
        matrix_ms, cells = await timed(
            lambda: store.overlap_matrix(a, b, kinds=KINDS), cache.clear if cache else lambda: None
        )
        warm_ms, warm = await timed(lambda: store.overlap_matrix(a, b, kinds=KINDS))
        assert warm == cells, "the cached matrix differs"
        page_ms, page = await timed(
            lambda: store.overlapping_accounts(
                a, b, partner_populations=list(POPULATIONS), kinds=KINDS, first=PAGE
            )
        )
    return StoreTimes(matrix_ms, warm_ms, page_ms, memory.peak, cells, page)


def analyze(path: Path) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("ANALYZE")
        db.commit()
    finally:
        db.close()


async def measure(backend: str, n: int, scratch: Path, args: argparse.Namespace) -> list[Result]:
    """One size on one backend: load, time the store, then the DuckDB baseline over the
    stored hashes. SQLite with --analyze is timed a second time after ANALYZE."""
    sqlite_path = scratch / f"overlaps-{n}.sqlite3"
    timings: list[tuple[str, StoreTimes]] = []
    store = open_backend(backend, sqlite_path)
    try:
        await store.apply_schema()
        # Empty at the start, not at the end: the previous size's data goes here, and the
        # last size's stays for bench/run to throw away (emptying 2M accounts from Neo4j
        # takes longer than loading them).
        await store.reset()
        a, b, rate = await load(store, n)
        ping_ms, _ = await timed(store.ping)  # the fixed cost of one round trip
        print(
            f"  {backend} {n:,}: loaded {2 * n:,} accounts at {rate:,.0f} rows/s; "
            f"store.ping {ping_ms:.1f} ms",
            flush=True,
        )
        timings.append((backend, await store_times(store, a, b)))
        if args.explain:
            await explain(backend, store, sqlite_path, a, b)
        if backend == "sqlite" and args.analyze:
            await store.close()
            analyze(sqlite_path)  # not timed; a fresh store sees the statistics
            store = open_backend(backend, sqlite_path)
            timings.append(("sqlite+analyze", await store_times(store, a, b)))
            if args.explain:
                await explain(backend, store, sqlite_path, a, b)

        with tempfile.TemporaryDirectory(dir=scratch) as export_dir:
            if backend == "sqlite":
                keys, pops = export_sqlite(sqlite_path, [a, b], Path(export_dir))
            else:
                keys, pops = await export_neo4j(
                    os.environ["BENCH_NEO4J_URL"], [a, b], Path(export_dir)
                )
            con = duck_tables(keys, pops)
        try:
            params = {"a": a, "b": b}
            [(overlapping,)] = con.execute(DUCK_OVERLAPPING, params).fetchall()
            assert overlapping == (n + 1) // 2, overlapping
            with peak_rss() as duck_memory:
                duck_matrix_ms, rows = timed_sync(
                    lambda: con.execute(DUCK_MATRIX, params).fetchall()
                )
                duck_page_ms, page_rows = timed_sync(
                    lambda: con.execute(DUCK_FIRST_PAGE, {**params, "limit": PAGE}).fetchall()
                )
        finally:
            con.close()
        for _, times in timings:
            check_matrix(times.cells, rows)
            check_page(times.page, page_rows)
    finally:
        await store.close()
        remove_sqlite(sqlite_path)
    return [
        Result(n, label, rate, times, duck_matrix_ms, duck_page_ms, duck_memory.peak)
        for label, times in timings
    ]


async def explain(backend: str, store: ResettableStore, path: Path, a: str, b: str) -> None:
    if backend == "sqlite":
        await explain_sqlite(store, path, a, b)
    else:
        await explain_neo4j(os.environ["BENCH_NEO4J_URL"], a, b)


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


HEADER = (
    "| accounts per org | store | matrix ms cold | DuckDB ms | ratio (goal <= 3x) "
    "| matrix ms warm | ratio "
    "| first page ms | DuckDB ms | ratio (goal < 10x) | peak RSS MiB | DuckDB RSS MiB "
    "| load rows/s |\n"
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def row_text(r: Result) -> str:
    matrix_ratio = r.store.matrix_ms / r.duck_matrix_ms
    page_ratio = r.store.page_ms / r.duck_page_ms
    return (
        f"| {r.size:,} | {r.backend} | {r.store.matrix_ms:,.1f} | {r.duck_matrix_ms:,.1f} "
        f"| {matrix_ratio:.1f}x {'met' if matrix_ratio <= 3 else 'NOT met'} "
        f"| {r.store.warm_ms:,.1f} | {r.store.warm_ms / r.duck_matrix_ms:.2f}x "
        f"| {r.store.page_ms:,.1f} | {r.duck_page_ms:,.1f} "
        f"| {page_ratio:.1f}x {'met' if page_ratio < 10 else 'NOT met'} "
        f"| {r.store.rss:,.0f} | {r.duck_rss:,.0f} | {r.load_rate:,.0f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,neo4j")
    parser.add_argument("--explain", action="store_true", help="print the stores' query plans")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="SQLite: time the reads again after ANALYZE (the store never runs it)",
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in [int(s) for s in args.sizes.split(",")]:
            for backend in args.backends.split(","):
                for result in await measure(backend, n, Path(scratch), args):
                    results.append(result)
                    print(row_text(result), flush=True)
    print(f"\nper org: N accounts, N/2 shared; median of {RUNS} after a warm-up; first={PAGE}")
    print(HEADER)
    for result in results:
        print(row_text(result))


if __name__ == "__main__":
    asyncio.run(main())
