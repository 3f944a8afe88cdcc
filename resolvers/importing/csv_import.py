"""Stream a CSV export into the store: constant memory, batched, resumable.

Progress is kept in a small checkpoint file beside the rejects file. Re-running the
same import resumes after the last committed batch; and since upserts are idempotent
by CRM id, even a fresh re-run duplicates nothing.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from graph.errors import BadInput, Conflict
from graph.model import KeyState
from graph.port import GraphStore
from privacy.keyring import Keyring
from resolvers import overlap_events
from resolvers.accounts import (
    PreparedBatch,
    RowStatus,
    prepare_batch,
    write_prepared,
    write_rows,
)
from resolvers.importing.mapping import BoundMap, ColumnMap, bind

DEFAULT_BATCH = 5_000
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(slots=True)
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    skipped_as_done: int = 0
    settled: int = 0  # deal registrations settled because their opportunity closed

    def __str__(self) -> str:
        resumed = f", {self.skipped_as_done} done earlier" if self.skipped_as_done else ""
        settled = f"; {self.settled} deal registrations settled" if self.settled else ""
        return (
            f"{self.rows} rows: {self.created} created, {self.updated} updated, "
            f"{self.rejected} rejected{resumed}{settled}"
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    fingerprint: str
    org_id: str
    rows_done: int
    entity: str = "accounts"  # what the file was imported as


class RowOutcome(Protocol):
    """What the tally needs of a row's result (accounts' or opportunities')."""

    @property
    def index(self) -> int: ...
    @property
    def crm_id(self) -> str: ...
    @property
    def status(self) -> RowStatus: ...
    @property
    def code(self) -> str | None: ...
    @property
    def field(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...


def fingerprint(path: Path) -> str:
    """Identifies the file (size, and a digest of its head), so a checkpoint is never
    applied to a different file."""
    stat = path.stat()
    with path.open("rb") as handle:
        head = hashlib.sha256(handle.read(1 << 20)).hexdigest()
    return f"{stat.st_size}:{head}"


async def import_csv(
    graph: GraphStore,
    keyring: Keyring,
    *,
    org_id: str,
    path: Path,
    columns: ColumnMap,
    rejects_path: Path,
    checkpoint_path: Path,
    now: Callable[[], datetime],
    batch_size: int = DEFAULT_BATCH,
    resume: bool = True,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    if org_id not in await graph.get_orgs([org_id]):
        raise BadInput(f"no organization {org_id}", field="org")
    summary = ImportSummary()
    print_ = fingerprint(path)
    done = _load_checkpoint(checkpoint_path, print_, org_id) if resume else 0
    with (
        path.open(newline="", encoding="utf-8-sig", errors="replace") as source,
        rejects_path.open("a" if done else "w", newline="", encoding="utf-8") as rejects_file,
    ):
        rejects = csv.writer(rejects_file)
        if not done:
            rejects.writerow(["line", "crm_id", "code", "field", "reason"])
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None:
            raise BadInput("the file is empty")
        bound = bind(columns, header)
        state = await graph.key_state()
        # Parsing, validation, normalization and hashing run in worker processes, a few
        # batches ahead, while this process writes: the store and the CPU work overlap.
        with _workers(workers) as pool:
            loop = asyncio.get_running_loop()
            ahead: deque[tuple[int, list[tuple[int, list[str]]], asyncio.Future[PreparedBatch]]]
            ahead = deque()

            async def write_oldest() -> None:
                nonlocal state
                end, batch, future = ahead.popleft()
                prepared = await future
                at = now()
                # Each batch is its own transaction, and announces its own populations
                # to partners (OVERLAP webhook events in that transaction): an import
                # that stops midway has announced exactly the batches it wrote.
                touched = {p for upsert in prepared.upserts for p in upsert.populations}
                told = await overlap_events.audience(graph, writer_org=org_id, populations=touched)
                outbox = overlap_events.outbox_events(org_id, told, at)
                try:
                    results = await write_prepared(graph, org_id, prepared, now=at, outbox=outbox)
                except Conflict:
                    # A rotation step moved the key state: hash this batch again here,
                    # and prepare later ones for the new state.
                    rows = [bound.row(values) for _, values in batch]
                    results = await write_rows(graph, org_id, keyring, rows, now=at, outbox=outbox)
                    state = await graph.key_state()
                lines = [line for line, _ in batch]
                _tally(summary, results, lines, rejects)
                rejects_file.flush()
                _save_checkpoint(checkpoint_path, Checkpoint(print_, org_id, end))
                if on_progress:
                    on_progress(len(lines))

            for start, batch in _batches(reader, batch_size):
                end = start + len(batch)
                if end <= done:
                    summary.skipped_as_done += len(batch)
                    summary.rows += len(batch)
                    if on_progress:
                        on_progress(len(batch))
                    continue
                cells = [values for _, values in batch]
                future = loop.run_in_executor(pool, _prepare_cells, bound, cells, keyring, state)
                ahead.append((end, batch, future))
                if len(ahead) > workers:
                    await write_oldest()
            while ahead:
                await write_oldest()
    checkpoint_path.unlink(missing_ok=True)  # noqa: ASYNC240  (a batch job's local files)
    return summary


def _prepare_cells(
    bound: BoundMap, cells: list[list[str]], keyring: Keyring, state: KeyState
) -> PreparedBatch:
    return prepare_batch([bound.row(values) for values in cells], keyring, state)


@contextmanager
def _workers(count: int) -> Iterator[Executor]:
    """Worker processes (spawned, not forked: this process runs threads), or this
    process itself when one worker is asked for."""
    if count <= 1:
        with ThreadPoolExecutor(max_workers=1) as inline:
            yield inline
        return
    with ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool:
        yield pool


def _batches(reader: Any, size: int) -> Iterator[tuple[int, list[tuple[int, list[str]]]]]:
    """Batches of (line number, cells), each with the ordinal of its first data row."""
    batch: list[tuple[int, list[str]]] = []
    start = 0
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        # line_num is the physical line the row ended on: the line a user sees.
        batch.append((reader.line_num, values))
        if len(batch) == size:
            yield start, batch
            start += len(batch)
            batch = []
    if batch:
        yield start, batch


def _tally(
    summary: ImportSummary, results: Sequence[RowOutcome], lines: list[int], rejects: Any
) -> None:
    for result in results:
        summary.rows += 1
        if result.status is RowStatus.CREATED:
            summary.created += 1
        elif result.status is RowStatus.UPDATED:
            summary.updated += 1
        else:
            summary.rejected += 1
            rejects.writerow(
                [lines[result.index], result.crm_id, result.code, result.field, result.message]
            )


def _load_checkpoint(path: Path, print_: str, org_id: str, entity: str = "accounts") -> int:
    if not path.exists():
        return 0
    try:
        data = json.loads(path.read_text())
        checkpoint = Checkpoint(**data)
    except (ValueError, TypeError):
        return 0
    if (checkpoint.fingerprint, checkpoint.org_id, checkpoint.entity) != (print_, org_id, entity):
        return 0
    return checkpoint.rows_done


def _save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(asdict(checkpoint)))
    temporary.replace(path)
