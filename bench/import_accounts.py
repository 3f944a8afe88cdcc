"""End-to-end CSV import of N accounts into SQLite and Neo4j, against a bare write of
the same rows measured in the same run.

    .venv/bin/python -m bench.import_accounts --rows 1000000 [--backends sqlite,neo4j]
    (Neo4j: set BENCH_NEO4J_URL, or run through bench/run which starts one.)

The import is the real thing: CSV parsing, validation, normalization, keyed hashing,
batched upserts with key sharing and orphan handling. The baseline writes the already
hashed rows with the bare minimum (`UNWIND $rows AS r CREATE ...` in Neo4j, a plain
executemany INSERT in SQLite), timing the writes only.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neo4j import AsyncGraphDatabase

from bench.memory import peak_rss
from graph.factory import open_store
from graph.model import KeyKind
from graph.port import ResettableStore
from privacy.keyring import Keyring
from privacy.normalize import normalize_domain, normalize_duns
from resolvers.clock import utcnow
from resolvers.importing.csv_import import import_csv
from resolvers.importing.mapping import PRESETS
from tests.factories import make_org

KEYRING = Keyring.from_secrets({1: b"b" * 32})
BASELINE_BATCH = 10_000


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crm_id", "name", "domain", "duns", "population"])
        for i in range(rows):
            duns = f"{100_000_000 + (i * 7919) % 899_999_999:09d}" if i % 2 else ""
            population = ("CUSTOMER", "PROSPECT", "OPEN_OPPORTUNITY")[i % 3]
            writer.writerow(
                [f"crm-{i:08d}", f"Company {i}", f"https://www.co{i}.com/", duns, population]
            )


def hashed_rows(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The same rows, normalized and hashed, in baseline batches (not timed)."""
    batch: list[dict[str, Any]] = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            keys = [KEYRING.hash(KeyKind.DOMAIN, normalize_domain(row["domain"]), 1)]
            if row["duns"]:
                keys.append(KEYRING.hash(KeyKind.DUNS, normalize_duns(row["duns"]), 1))
            batch.append(
                {
                    "crm_id": row["crm_id"],
                    "name": row["name"],
                    "keys": keys,
                    "population": row["population"],
                }
            )
            if len(batch) == BASELINE_BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


async def import_into(store: ResettableStore, path: Path, batch_size: int) -> tuple[float, float]:
    await store.apply_schema()
    await store.reset()
    org = make_org("Bench")
    await store.create_org(org)
    with tempfile.TemporaryDirectory() as scratch, peak_rss() as memory:
        start = time.perf_counter()
        summary = await import_csv(
            store,
            KEYRING,
            org_id=org.id,
            path=path,
            columns=PRESETS["tandem"],
            rejects_path=Path(scratch) / "rejects.csv",
            checkpoint_path=Path(scratch) / "cp",
            now=utcnow,
            batch_size=batch_size,
            workers=os.cpu_count() or 1,
        )
        elapsed = time.perf_counter() - start
    assert summary.rejected == 0, summary
    return summary.rows / elapsed, memory.peak


async def neo4j_baseline(url: str, path: Path) -> float:
    auth = (
        (os.environ["BENCH_NEO4J_USER"], os.environ["BENCH_NEO4J_PASSWORD"])
        if os.environ.get("BENCH_NEO4J_USER")
        else None
    )
    driver = AsyncGraphDatabase.driver(url, auth=auth)
    query = """
    UNWIND $rows AS r
    CREATE (a:BenchAccount {crm_id: r.crm_id, name: r.name, population: r.population})
    WITH a, r UNWIND r.keys AS h CREATE (a)-[:BENCH_KEYED_BY]->(:BenchKey {h: h})
    """
    elapsed = 0.0
    count = 0
    try:
        for batch in hashed_rows(path):
            start = time.perf_counter()
            await driver.execute_query(query, rows=batch, database_="neo4j")
            elapsed += time.perf_counter() - start
            count += len(batch)
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run.
        async with driver.session(database="neo4j") as session:
            result = await session.run(
                "MATCH (n) WHERE n:BenchAccount OR n:BenchKey "
                "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 50000 ROWS"
            )
            await result.consume()
    finally:
        await driver.close()
    return count / elapsed


def sqlite_baseline(path: Path) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        db = sqlite3.connect(Path(scratch) / "baseline.sqlite3")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(
            "CREATE TABLE accounts "
            "(id INTEGER PRIMARY KEY, crm_id TEXT, name TEXT, population TEXT)"
        )
        db.execute("CREATE TABLE account_keys (account_id INTEGER, h TEXT)")
        elapsed = 0.0
        count = 0
        next_id = 0
        for batch in hashed_rows(path):
            start = time.perf_counter()
            ids = range(next_id, next_id + len(batch))
            db.executemany(
                "INSERT INTO accounts VALUES (?, ?, ?, ?)",
                [
                    (i, r["crm_id"], r["name"], r["population"])
                    for i, r in zip(ids, batch, strict=True)
                ],
            )
            db.executemany(
                "INSERT INTO account_keys VALUES (?, ?)",
                [(i, h) for i, r in zip(ids, batch, strict=True) for h in r["keys"]],
            )
            db.commit()
            elapsed += time.perf_counter() - start
            next_id += len(batch)
            count += len(batch)
        db.close()
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,neo4j")
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()
    backends = args.backends.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "accounts.csv"
        write_csv(path, args.rows)
        size_mib = path.stat().st_size / 2**20
        print(f"{args.rows:,} rows, {size_mib:,.0f} MiB CSV")
        for backend in backends:
            if backend == "sqlite":
                store = open_store(
                    f"sqlite+aiosqlite:///{Path(scratch) / 'tandem.sqlite3'}", allow_reset=True
                )
                baseline = sqlite_baseline(path)
            else:
                url = os.environ["BENCH_NEO4J_URL"]
                store = open_store(
                    url,
                    neo4j_user=os.environ.get("BENCH_NEO4J_USER"),
                    neo4j_password=os.environ.get("BENCH_NEO4J_PASSWORD"),
                    allow_reset=True,
                )
                baseline = await neo4j_baseline(url, path)
            rate, peak = await import_into(store, path, args.batch_size)
            print(
                f"{backend:>7}: import {rate:>8,.0f} rows/s | bare write {baseline:>8,.0f} rows/s "
                f"| ratio {rate / baseline:.2f} | peak RSS {peak:,.0f} MiB",
                flush=True,
            )
            # The SQLite file goes with the scratch folder and the Neo4j with bench/run:
            # no clean-up to wait for.
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
