"""CSV import of touches: the same rows `recordTouches` takes, from a file.

Columns (header names, case-insensitive): external_id, kind, at (ISO 8601 by the one
rule of resolvers/timestamps.py: no offset means UTC, a bare date 00:00 UTC), weight
(optional), and either partner_id with account_id and/or opportunity_id (the importing
org's own records, as the vendor), or registration_id (one of the importing org's deal
registrations, as a partner). Rows are written in batches through the same service as
the API, so idempotency (by external_id) and every check are the same; rejected rows go
to a rejects file with their code and reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from graph.errors import BadInput
from graph.identity import IdentityStore, Role, TokenKind, TokenScope
from graph.port import GraphStore
from graph.touches import TouchKind
from resolvers.actor import Actor
from resolvers.influence import touches
from resolvers.influence.touches import TouchInput, TouchRowStatus
from resolvers.timestamps import TimestampError, parse_timestamp

REQUIRED = ("external_id", "kind", "at")
CLI_PRINCIPAL = "cli"  # who the audit log names for an import run from the command line
OPTIONAL = ("weight", "partner_id", "account_id", "opportunity_id", "registration_id")


@dataclass(frozen=True, slots=True)
class TouchImportSummary:
    rows: int
    recorded: int
    rejected: int

    def __str__(self) -> str:
        return f"{self.rows} rows: {self.recorded} recorded, {self.rejected} rejected"


async def import_touches_csv(
    graph: GraphStore,
    identity: IdentityStore,
    *,
    org_id: str,
    path: Path,
    rejects_path: Path,
    now: Callable[[], datetime],
    batch_size: int = touches.MAX_ROWS_PER_CALL,
) -> TouchImportSummary:
    """Import as the org's administrator (a CLI tool acting for the org)."""
    actor = Actor(
        user_id=CLI_PRINCIPAL,
        org_id=org_id,
        role=Role.ADMIN,
        token_id=CLI_PRINCIPAL,
        token_kind=TokenKind.API,
        scope=TokenScope.READ_WRITE,
    )
    total = recorded = rejected = 0
    with (
        path.open(newline="", encoding="utf-8-sig") as source,
        rejects_path.open("w", newline="", encoding="utf-8") as rejects_file,
    ):
        reader = csv.DictReader(source)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise BadInput(f"{path.name}: missing columns {', '.join(missing)}", field="file")
        rejects = csv.writer(rejects_file)
        rejects.writerow(["line", "external_id", "code", "field", "message"])
        for batch in _batches(reader, batch_size):
            total += len(batch)
            rows: list[TouchInput] = []
            lines: list[int] = []
            for line, raw in batch:
                row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
                try:
                    rows.append(_row(row))
                    lines.append(line)
                except BadInput as problem:
                    rejected += 1
                    rejects.writerow(
                        [
                            line,
                            row.get("external_id", ""),
                            "INVALID",
                            problem.field,
                            problem.message,
                        ]
                    )
            results = await touches.record(graph, identity, actor, rows, now=now())
            for line, result in zip(lines, results, strict=True):
                if result.status is TouchRowStatus.RECORDED:
                    recorded += 1
                else:
                    rejected += 1
                    rejects.writerow(
                        [line, result.external_id, result.code, result.field, result.message]
                    )
    return TouchImportSummary(rows=total, recorded=recorded, rejected=rejected)


def _batches(reader: csv.DictReader[str], size: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for raw in reader:
        batch.append((reader.line_num, raw))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _row(row: dict[str, str]) -> TouchInput:
    try:
        kind = TouchKind(row["kind"].upper())
    except ValueError:
        raise BadInput(f"kind must be one of {', '.join(TouchKind)}", field="kind") from None
    try:
        at = parse_timestamp(row.get("at") or "")
    except TimestampError as problem:
        raise BadInput(f"at {problem}", field="at") from None
    weight = None
    if row.get("weight"):
        try:
            weight = Decimal(row["weight"])
        except InvalidOperation:
            raise BadInput("weight must be a decimal number", field="weight") from None
    return TouchInput(
        external_id=row["external_id"],
        kind=kind,
        at=at,
        weight=weight,
        partner_org=row.get("partner_id") or None,
        account_id=row.get("account_id") or None,
        opportunity_id=row.get("opportunity_id") or None,
        registration_id=row.get("registration_id") or None,
    )
