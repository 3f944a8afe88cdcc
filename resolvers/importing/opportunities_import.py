"""Stream a CRM opportunity export into the store: batched, resumable, with rejects.

The same machinery as accounts (checkpoint beside the rejects file, line numbers in the
rejects, idempotent upserts by CRM id), without worker processes: there is nothing to
hash, so validation is cheap next to the write. Opportunities that a batch closes settle
their deal registrations; `on_settled` hears about them (to publish events).
"""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from graph.deals import DealRegistration
from graph.errors import BadInput
from graph.port import GraphStore
from resolvers.deals.opportunities import write_rows
from resolvers.importing.csv_import import (
    DEFAULT_BATCH,
    Checkpoint,
    ImportSummary,
    _batches,
    _load_checkpoint,
    _save_checkpoint,
    _tally,
    fingerprint,
)
from resolvers.importing.opportunity_mapping import OpportunityColumns, bind

ENTITY = "opportunities"


async def import_opportunities_csv(
    graph: GraphStore,
    *,
    org_id: str,
    path: Path,
    columns: OpportunityColumns,
    rejects_path: Path,
    checkpoint_path: Path,
    now: Callable[[], datetime],
    batch_size: int = DEFAULT_BATCH,
    resume: bool = True,
    on_progress: Callable[[int], None] | None = None,
    on_settled: Callable[[list[DealRegistration]], Awaitable[None]] | None = None,
) -> ImportSummary:
    if org_id not in await graph.get_orgs([org_id]):
        raise BadInput(f"no organization {org_id}", field="org")
    summary = ImportSummary()
    print_ = fingerprint(path)
    done = _load_checkpoint(checkpoint_path, print_, org_id, ENTITY) if resume else 0
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
        for start, batch in _batches(reader, batch_size):
            end = start + len(batch)
            if end > done:
                rows = [bound.row(values) for _, values in batch]
                outcome = await write_rows(graph, org_id, rows, now=now())
                _tally(summary, outcome.results, [line for line, _ in batch], rejects)
                summary.settled += len(outcome.settled)
                rejects_file.flush()
                _save_checkpoint(checkpoint_path, Checkpoint(print_, org_id, end, ENTITY))
                if on_settled is not None and outcome.settled:
                    await on_settled(outcome.settled)
            else:
                summary.skipped_as_done += len(batch)
                summary.rows += len(batch)
            if on_progress:
                on_progress(len(batch))
    checkpoint_path.unlink(missing_ok=True)  # noqa: ASYNC240  (a batch job's local files)
    return summary
