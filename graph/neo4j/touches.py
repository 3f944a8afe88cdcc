"""The TouchStore half of the port on Neo4j: a mixin Neo4jStore inherits.

Records travel as in graph/neo4j/records.py: datetimes as Neo4j DateTime values (aware
UTC datetimes back), enums as strings, weights as the exact decimal text. The Cypher,
the graph shape and how influence paths are walked are in graph/neo4j/touch_cypher.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from neo4j import AsyncManagedTransaction

from graph.deals import Opportunity, OpportunityStatus
from graph.errors import BadInput
from graph.model import Page
from graph.neo4j import touch_cypher as q
from graph.neo4j.deals import opportunity_from
from graph.neo4j.records import Row, to_datetime
from graph.neo4j.statements import check_aware, fetch_rows
from graph.paging import check_first, page
from graph.touch_port import TouchSide
from graph.touches import InfluencePath, PathStep, Touch, TouchKind, TouchStatus, TouchWrite

T = TypeVar("T")

_ONE = Decimal(1)


def _weight(value: Decimal) -> str:
    if not value.is_finite():
        raise BadInput("weights must be finite", field="weight")
    return str(value)


def _key(t: Touch) -> tuple[str, str, str]:
    return (t.vendor_org, t.recorded_by, t.external_id)


# --- records --------------------------------------------------------------------------


def touch_params(t: Touch) -> dict[str, Any]:
    check_aware(t.at, "at")
    check_aware(t.created_at, "created_at")
    return {
        "id": t.id,
        "vendor_org": t.vendor_org,
        "partner_org": t.partner_org,
        "external_id": t.external_id,
        "kind": str(t.kind),
        "at": t.at,
        "weight": _weight(t.weight),
        "account_id": t.account_id,
        "opportunity_id": t.opportunity_id,
        "account_only": t.account_id if t.opportunity_id is None else None,
        "status": str(t.status),
        "recorded_by": t.recorded_by,
        "created_at": t.created_at,
    }


def touch_from(row: Row) -> Touch:
    return Touch(
        id=row["id"],
        vendor_org=row["vendor_org"],
        partner_org=row["partner_org"],
        external_id=row["external_id"],
        kind=TouchKind(row["kind"]),
        at=to_datetime(row["at"]),
        weight=Decimal(row["weight"]),
        account_id=row["account_id"],
        opportunity_id=row.get("opportunity_id"),
        status=TouchStatus(row["status"]),
        recorded_by=row["recorded_by"],
        created_at=to_datetime(row["created_at"]),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(secs: int, nanos: int) -> datetime:
    """A DateTime sent as epoch seconds and nanosecond-of-second, as an aware UTC
    datetime (exact to the microsecond, as Python's datetimes are)."""
    return _EPOCH + timedelta(seconds=secs, microseconds=nanos // 1000)


def _step_key(s: PathStep) -> tuple[datetime, str, str, str]:
    return (s.at, s.partner_org, str(s.kind), s.target_org or "")


def _path_key(p: InfluencePath) -> tuple[int, tuple[tuple[datetime, str, str, str], ...]]:
    return (p.hops, tuple(_step_key(s) for s in p.steps))


# --- the mixin ------------------------------------------------------------------------


class Neo4jTouches:
    """Touches, closed opportunities and influence paths; Neo4jStore supplies the
    driver and the plumbing."""

    if TYPE_CHECKING:

        async def _read(self, query: LiteralString, **params: Any) -> list[Row]: ...

        async def _transaction(
            self, work: Callable[[AsyncManagedTransaction], Awaitable[T]], *, write: bool
        ) -> T: ...

    # --- touches ------------------------------------------------------------------------

    async def record_touches(self, touches: Sequence[Touch]) -> list[TouchWrite]:
        seen: set[tuple[str, str, str]] = set()
        for t in touches:
            if _key(t) in seen:
                raise BadInput(f"external_id {t.external_id!r} appears twice", field="external_id")
            seen.add(_key(t))
        if not touches:
            return []
        # Sorted by key: concurrent batches lock their keys in one order.
        params = sorted(
            (touch_params(t) for t in touches),
            key=lambda p: (p["vendor_org"], p["recorded_by"], p["external_id"]),
        )

        async def work(tx: AsyncManagedTransaction) -> list[Row]:
            return await fetch_rows(tx, q.RECORD_TOUCHES, {"rows": params})

        rows = await self._transaction(work, write=True)
        written = {
            (r["vendor_org"], r["recorded_by"], r["external_id"]): TouchWrite(
                external_id=r["external_id"], touch_id=r["id"], created=bool(r["created"])
            )
            for r in rows
        }
        return [written[_key(t)] for t in touches]

    async def get_touches(self, acting_org: str, ids: Sequence[str]) -> dict[str, Touch]:
        if not ids:
            return {}
        rows = await self._read(q.GET_TOUCHES, org=acting_org, ids=sorted(set(ids)))
        return {t.id: t for t in map(touch_from, rows)}

    async def list_touches(
        self,
        acting_org: str,
        *,
        side: TouchSide,
        statuses: Sequence[TouchStatus] | None = None,
        opportunity_id: str | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Touch]:
        check_first(first)
        # (side, backward, after given) -> the statement; backward reads oldest first.
        query = {
            ("vendor", False, False): q.LIST_TOUCHES_VENDOR,
            ("vendor", False, True): q.LIST_TOUCHES_VENDOR_AFTER,
            ("vendor", True, False): q.LIST_TOUCHES_VENDOR_LAST,
            ("vendor", True, True): q.LIST_TOUCHES_VENDOR_BEFORE,
            ("partner", False, False): q.LIST_TOUCHES_PARTNER,
            ("partner", False, True): q.LIST_TOUCHES_PARTNER_AFTER,
            ("partner", True, False): q.LIST_TOUCHES_PARTNER_LAST,
            ("partner", True, True): q.LIST_TOUCHES_PARTNER_BEFORE,
        }[("vendor" if side == "vendor" else "partner", backward, after is not None)]
        rows = await self._read(
            query,
            org=acting_org,
            after=after,
            statuses=None if statuses is None else sorted({str(s) for s in statuses}),
            opportunity=opportunity_id,
            limit=first + 1,
        )
        items = [touch_from(row) for row in rows]
        return page(items, first, lambda t: t.id, backward=backward)

    async def set_touch_status(
        self,
        vendor_org: str,
        ids: Sequence[str],
        *,
        expected: TouchStatus,
        status: TouchStatus,
    ) -> list[Touch]:
        wanted = sorted(set(ids))
        if not wanted:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[Row]:
            found = await fetch_rows(tx, q.FIND_TOUCHES, {"ids": wanted, "vendor": vendor_org})
            if not found:
                return []
            nodes = sorted(str(n) for n in found)
            await fetch_rows(tx, q.LOCK_TOUCHES, {"nodes": nodes})
            return await fetch_rows(
                tx,
                q.SET_TOUCH_STATUS,
                {"nodes": nodes, "expected": str(expected), "status": str(status)},
            )

        rows = await self._transaction(work, write=True)
        return sorted((touch_from(r) for r in rows), key=lambda t: t.id)

    # --- attribution --------------------------------------------------------------------

    async def closed_opportunities(
        self,
        vendor_org: str,
        *,
        closed_from: datetime,
        closed_to: datetime,
        first: int,
        after: str | None = None,
    ) -> Page[Opportunity]:
        check_first(first)
        check_aware(closed_from, "closed_from")
        check_aware(closed_to, "closed_to")
        rows = await self._read(
            q.CLOSED_OPPORTUNITIES,
            vendor=vendor_org,
            after=after or "",
            closed_from=closed_from,
            closed_to=closed_to,
            limit=first + 1,
        )
        items = [opportunity_from(row) for row in rows[:first]]
        return Page(items=items, has_next=len(rows) > first, cursors=[o.id for o in items])

    async def influence_paths(
        self,
        vendor_org: str,
        opportunity_ids: Sequence[str],
        *,
        max_hops: int,
        window: timedelta,
        now: datetime,
    ) -> dict[str, list[InfluencePath]]:
        check_aware(now, "now")
        if max_hops < 0:
            raise BadInput("max_hops must not be negative", field="max_hops")
        wanted = sorted(set(opportunity_ids))
        if not wanted:
            return {}

        async def work(tx: AsyncManagedTransaction) -> dict[str, list[InfluencePath]]:
            return await _walk(tx, vendor_org, wanted, max_hops, window, now)

        found = await self._transaction(work, write=False)
        return {oid: sorted(paths, key=_path_key) for oid, paths in found.items()}


async def _walk(
    tx: AsyncManagedTransaction,
    vendor_org: str,
    ids: list[str],
    max_hops: int,
    window: timedelta,
    now: datetime,
) -> dict[str, list[InfluencePath]]:
    """Every influence path of the vendor's opportunities among `ids`, unordered: hop 0
    in one statement, then one statement a hop over the frontier's distinct orgs."""
    [opps] = await fetch_rows(tx, q.PATH_OPPORTUNITIES, {"ids": ids, "vendor": vendor_org})
    starts: dict[str, datetime] = {}
    bounds: list[dict[str, Any]] = []
    for oid, account_id, status, secs, nanos in opps:
        if status == str(OpportunityStatus.OPEN) or secs is None:
            end = now.astimezone(UTC)
        else:
            end = _instant(secs, nanos)
        start = end - window
        starts[oid] = start
        bounds.append({"id": oid, "account_id": account_id, "start": start, "end": end})
    result: dict[str, list[InfluencePath]] = {oid: [] for oid in starts}
    if not bounds:
        return result

    direct = await fetch_rows(tx, q.DIRECT_TOUCHES, {"opps": bounds, "vendor": vendor_org})
    frontier: list[tuple[str, InfluencePath]] = []
    for r in direct:
        for partner_org, kind, secs, nanos, weight in r["touches"]:
            step = PathStep(partner_org, TouchKind(kind), _instant(secs, nanos), Decimal(weight))
            frontier.append((r["opp"], InfluencePath((step,))))
    for oid, path in frontier:
        result[oid].append(path)

    for _ in range(max_hops):
        if not frontier:
            break
        # Per org: the earliest window start and the latest first-step time of its paths.
        lo: dict[str, datetime] = {}
        hi: dict[str, datetime] = {}
        for oid, path in frontier:
            first = path.steps[0]
            org, start = first.partner_org, starts[oid]
            if start > first.at:
                continue  # no edge time fits
            lo[org] = min(lo.get(org, start), start)
            hi[org] = max(hi.get(org, first.at), first.at)
        if not lo:
            break
        params = [{"org": org, "lo": lo[org], "hi": hi[org]} for org in sorted(lo)]
        edges: dict[str, list[tuple[str, datetime]]] = {}
        for r in await fetch_rows(tx, q.INTRODUCERS, {"frontier": params}):
            edges[r["org"]] = [(c, _instant(secs, nanos)) for c, secs, nanos in r["edges"]]
        grown: list[tuple[str, InfluencePath]] = []
        for oid, path in frontier:
            first = path.steps[0]
            on_path = {s.partner_org for s in path.steps}
            start = starts[oid]
            for credited, at in edges.get(first.partner_org, ()):
                if credited in on_path or not start <= at <= first.at:
                    continue
                step = PathStep(credited, TouchKind.INTRO, at, _ONE, target_org=first.partner_org)
                grown.append((oid, InfluencePath((step, *path.steps))))
        for oid, path in grown:
            result[oid].append(path)
        frontier = grown
    return result
