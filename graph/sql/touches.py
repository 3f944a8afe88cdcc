"""SqlTouches: the TouchStore half of the port over SQLAlchemy (SQLite or PostgreSQL).

SqlStore inherits it.

- Idempotent recording: `touches` is unique on (vendor_org, recorded_by, external_id);
  `record_touches` is one `INSERT ... ON CONFLICT DO UPDATE` that keeps the stored id
  and created_at.
- Influence paths are computed per batch of opportunities with a fixed number of
  set-based queries: one for the opportunities, one (a UNION ALL over the two touch
  indexes) for every hop-0 touch of the batch, then one per hop for the INTRODUCED edges
  of the orgs newly reached (from_org and to_org indexes). The paths themselves are
  extended in Python, with exactly the port's definition, so every store agrees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Row, Table, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from graph.deals import Opportunity, OpportunityStatus
from graph.errors import BadInput
from graph.model import Page
from graph.paging import check_first, page
from graph.sql.chunks import IN_CHUNK, in_chunks
from graph.sql.deals import SqlDeals, _opportunity
from graph.sql.keyset import by_key
from graph.sql.tables import metadata
from graph.touch_port import TouchSide
from graph.touches import InfluencePath, PathStep, Touch, TouchKind, TouchStatus, TouchWrite

TOUCHES: Table = metadata.tables["touches"]
OPPS: Table = metadata.tables["opportunities"]
EDGES: Table = metadata.tables["introduced_edges"]

_CLOSED = [OpportunityStatus.WON.value, OpportunityStatus.LOST.value]
_REPLACED = (
    "partner_org",
    "kind",
    "at",
    "weight",
    "account_id",
    "opportunity_id",
    "status",
)
_ONE = Decimal(1)

TouchKey = tuple[str, str, str]  # (vendor_org, recorded_by, external_id)


class SqlTouches(SqlDeals):
    # --- touches ------------------------------------------------------------------------

    async def record_touches(self, touches: Sequence[Touch]) -> list[TouchWrite]:
        keys = [_key(t) for t in touches]
        if len(set(keys)) != len(keys):
            raise BadInput(
                "the touches repeat a (vendor, recorded_by, external_id)", field="touches"
            )
        if not touches:
            return []
        postgres = self._backend == "postgresql"
        rows = sorted(touches, key=_key)  # one lock order for concurrent writers

        async def work(session: AsyncSession) -> list[TouchWrite]:
            previous: set[TouchKey] = set()
            if not postgres:  # SQLite has no xmax: read which keys exist (BEGIN IMMEDIATE)
                wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
                for t in rows:
                    wanted[(t.vendor_org, t.recorded_by)].append(t.external_id)
                for (vendor, recorder), external_ids in wanted.items():
                    for chunk in in_chunks(external_ids):
                        query = select(TOUCHES.c.external_id).where(
                            TOUCHES.c.vendor_org == vendor,
                            TOUCHES.c.recorded_by == recorder,
                            TOUCHES.c.external_id.in_(chunk),
                        )
                        for (external_id,) in await session.execute(query):
                            previous.add((vendor, recorder, external_id))
            statement = self._upsert()(TOUCHES)
            statement = statement.on_conflict_do_update(
                index_elements=["vendor_org", "recorded_by", "external_id"],
                set_={column: statement.excluded[column] for column in _REPLACED},
            )
            fresh = literal_column("xmax = 0" if postgres else "0", Boolean)
            statement = statement.returning(
                TOUCHES.c.vendor_org,
                TOUCHES.c.recorded_by,
                TOUCHES.c.external_id,
                TOUCHES.c.id,
                fresh,
            )
            written: dict[TouchKey, tuple[str, bool]] = {}
            result = await session.execute(statement, [_values(t) for t in rows])
            for vendor, recorder, external_id, touch_id, inserted in result:
                key = (vendor, recorder, external_id)
                created = bool(inserted) if postgres else key not in previous
                written[key] = (touch_id, created)
            return [TouchWrite(t.external_id, *written[_key(t)]) for t in touches]

        return await self._write_unit(work)

    async def get_touches(self, acting_org: str, ids: Sequence[str]) -> dict[str, Touch]:
        found: dict[str, Touch] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                for visible in (TOUCHES.c.vendor_org, TOUCHES.c.partner_org):
                    query = select(TOUCHES).where(visible == acting_org, TOUCHES.c.id.in_(chunk))
                    for row in await session.execute(query):
                        found[row.id] = _touch(row)
        return found

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
        if side not in ("vendor", "partner"):
            raise BadInput("side is vendor or partner", field="side")
        if statuses is not None and not statuses:
            return Page(items=[], has_next=False)
        column = TOUCHES.c.vendor_org if side == "vendor" else TOUCHES.c.partner_org
        query = select(TOUCHES).where(column == acting_org)
        if statuses is not None:
            query = query.where(
                TOUCHES.c.status.in_(sorted({TouchStatus(s).value for s in statuses}))
            )
        if opportunity_id is not None:
            query = query.where(TOUCHES.c.opportunity_id == opportunity_id)
        query = by_key(
            query, TOUCHES.c.id, descending=True, first=first, after=after, backward=backward
        )
        async with self._unit() as session:
            items = [_touch(row) for row in await session.execute(query)]
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
        old, new = TouchStatus(expected).value, TouchStatus(status).value

        async def work(session: AsyncSession) -> list[Touch]:
            moved: list[Touch] = []
            for chunk in in_chunks(wanted):
                statement = (
                    update(TOUCHES)
                    .where(
                        TOUCHES.c.vendor_org == vendor_org,
                        TOUCHES.c.id.in_(chunk),
                        TOUCHES.c.status == old,
                    )
                    .values(status=new)
                    .returning(*TOUCHES.c)
                )
                moved += [_touch(row) for row in await session.execute(statement)]
            return sorted(moved, key=lambda t: t.id)

        return await self._write_unit(work)

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
        query = (
            select(OPPS)
            .where(
                OPPS.c.org_id == vendor_org,
                OPPS.c.status.in_(_CLOSED),
                OPPS.c.closed_at >= closed_from,
                OPPS.c.closed_at < closed_to,
            )
            .order_by(OPPS.c.id)
            .limit(first + 1)
        )
        if after is not None:
            query = query.where(OPPS.c.id > after)
        async with self._unit() as session:
            items = [_opportunity(row) for row in await session.execute(query)]
        return page(items, first, lambda o: o.id)

    # --- influence paths ----------------------------------------------------------------

    async def influence_paths(
        self,
        vendor_org: str,
        opportunity_ids: Sequence[str],
        *,
        max_hops: int,
        window: timedelta,
        now: datetime,
    ) -> dict[str, list[InfluencePath]]:
        if max_hops < 0:
            raise BadInput("max_hops must not be negative", field="max_hops")
        wanted = sorted(set(opportunity_ids))
        if not wanted:
            return {}
        async with self._unit() as session:
            # The opportunities: each one's account and window.
            windows: dict[str, tuple[datetime, datetime]] = {}
            account_of: dict[str, str] = {}
            for chunk in in_chunks(wanted):
                query = select(OPPS.c.id, OPPS.c.account_id, OPPS.c.status, OPPS.c.closed_at).where(
                    OPPS.c.org_id == vendor_org, OPPS.c.id.in_(chunk)
                )
                for opp_id, account_id, status, closed_at in await session.execute(query):
                    end = (
                        now
                        if status == OpportunityStatus.OPEN.value or closed_at is None
                        else closed_at
                    )
                    windows[opp_id] = (end - window, end)
                    account_of[opp_id] = account_id
            if not windows:
                return {}
            low = min(start for start, _ in windows.values())
            high = max(end for _, end in windows.values())

            # Hop 0: every confirmed touch of the batch, on its opportunities or, without
            # an opportunity, on their accounts; each window is applied below.
            by_opp: dict[str, list[PathStep]] = defaultdict(list)
            by_account: dict[str, list[PathStep]] = defaultdict(list)
            kinds = {k.value: k for k in TouchKind}
            opp_ids = sorted(windows)
            account_ids = sorted(set(account_of.values()))
            columns = (
                TOUCHES.c.partner_org,
                TOUCHES.c.kind,
                TOUCHES.c.at,
                TOUCHES.c.weight,
                TOUCHES.c.account_id,
                TOUCHES.c.opportunity_id,
            )
            confirmed = (
                TOUCHES.c.vendor_org == vendor_org,
                TOUCHES.c.status == TouchStatus.CONFIRMED.value,
                TOUCHES.c.at >= low,
                TOUCHES.c.at <= high,
            )
            for opp_chunk, account_chunk in _paired_chunks(opp_ids, account_ids):
                parts = []
                if opp_chunk:
                    parts.append(
                        select(*columns).where(*confirmed, TOUCHES.c.opportunity_id.in_(opp_chunk))
                    )
                if account_chunk:
                    parts.append(
                        select(*columns).where(
                            *confirmed,
                            TOUCHES.c.opportunity_id.is_(None),
                            TOUCHES.c.account_id.in_(account_chunk),
                        )
                    )
                for partner, kind, at, weight, account_id, opp_id in await session.execute(
                    union_all(*parts)
                ):
                    touch_step = PathStep(partner, kinds[kind], at, weight)
                    if opp_id is None:
                        by_account[account_id].append(touch_step)
                    else:
                        by_opp[opp_id].append(touch_step)

            result: dict[str, list[InfluencePath]] = {}
            # (opportunity, path): the paths of the last hop, to extend.
            frontier: list[tuple[str, InfluencePath]] = []
            for opp_id, (start, end) in windows.items():
                paths = [
                    InfluencePath((s,))
                    for s in (*by_opp.get(opp_id, ()), *by_account.get(account_of[opp_id], ()))
                    if start <= s.at <= end
                ]
                result[opp_id] = paths
                frontier += [(opp_id, p) for p in paths]

            # Hops 1..max_hops: extend through INTRODUCED edges, one query per hop for the
            # orgs not seen before.
            edges_of: dict[str, list[tuple[str, datetime]]] = {}
            for _ in range(max_hops):
                if not frontier:
                    break
                new_orgs = sorted({p.origin for _, p in frontier} - edges_of.keys())
                await _load_edges(session, new_orgs, low, high, edges_of)
                longer: list[tuple[str, InfluencePath]] = []
                for opp_id, path in frontier:
                    start = windows[opp_id][0]
                    first_step = path.steps[0]
                    origin, t = first_step.partner_org, first_step.at
                    on_path = {s.partner_org for s in path.steps}
                    for credited, when in edges_of[origin]:
                        if credited in on_path or not start <= when <= t:
                            continue
                        step = PathStep(credited, TouchKind.INTRO, when, _ONE, target_org=origin)
                        extended = InfluencePath((step, *path.steps))
                        longer.append((opp_id, extended))
                        result[opp_id].append(extended)
                frontier = longer
        return {opp_id: sorted(paths, key=_path_order) for opp_id, paths in result.items()}


async def _load_edges(
    session: AsyncSession,
    orgs: Sequence[str],
    low: datetime,
    high: datetime,
    edges_of: dict[str, list[tuple[str, datetime]]],
) -> None:
    """For each of `orgs`, the (credited_org, at) of the INTRODUCED edges it is on (as
    from_org or to_org) with low <= at <= high."""
    for org in orgs:
        edges_of[org] = []
    for chunk in in_chunks(orgs):
        sides = [
            select(side.label("org"), EDGES.c.credited_org, EDGES.c.at).where(
                side.in_(chunk), EDGES.c.at >= low, EDGES.c.at <= high
            )
            for side in (EDGES.c.from_org, EDGES.c.to_org)
        ]
        for org, credited, at in await session.execute(union_all(*sides)):
            edges_of[org].append((credited, at))


def _path_order(path: InfluencePath) -> tuple[Any, ...]:
    """The port's order: hops, then the steps as (at, partner_org, kind, target_org);
    weights last, so even ties come out the same every time."""
    return (
        path.hops,
        tuple((s.at, s.partner_org, s.kind.value, s.target_org or "") for s in path.steps),
        tuple(s.weight for s in path.steps),
    )


def _key(t: Touch) -> TouchKey:
    return (t.vendor_org, t.recorded_by, t.external_id)


def _values(t: Touch) -> dict[str, Any]:
    return {
        "id": t.id,
        "vendor_org": t.vendor_org,
        "partner_org": t.partner_org,
        "recorded_by": t.recorded_by,
        "external_id": t.external_id,
        "kind": TouchKind(t.kind).value,
        "at": t.at,
        "weight": t.weight,
        "account_id": t.account_id,
        "opportunity_id": t.opportunity_id,
        "status": TouchStatus(t.status).value,
        "created_at": t.created_at,
    }


def _touch(row: Row[Any]) -> Touch:
    return Touch(
        id=row.id,
        vendor_org=row.vendor_org,
        partner_org=row.partner_org,
        external_id=row.external_id,
        kind=TouchKind(row.kind),
        at=row.at,
        weight=row.weight,
        account_id=row.account_id,
        opportunity_id=row.opportunity_id,
        status=TouchStatus(row.status),
        recorded_by=row.recorded_by,
        created_at=row.created_at,
    )


def _paired_chunks(
    a: Sequence[str], b: Sequence[str], size: int = IN_CHUNK // 2
) -> Iterator[tuple[Sequence[str], Sequence[str]]]:
    """Chunks of two lists side by side, so one statement binds at most 2 * size values
    (a batch of 1,000 opportunities is a single statement)."""
    for start in range(0, max(len(a), len(b)), size):
        yield a[start : start + size], b[start : start + size]
