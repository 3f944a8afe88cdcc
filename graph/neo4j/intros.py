"""The IntroStore half of the port on Neo4j: a mixin Neo4jStore inherits.

Records travel as in graph/neo4j/records.py: datetimes as Neo4j DateTime values (aware
UTC datetimes back), enums as strings, tuples as lists. The Cypher, and how one open
introduction per pair and the compare-and-set moves stay race-free, is in
graph/neo4j/intro_cypher.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar, cast

from neo4j import AsyncDriver, AsyncManagedTransaction

from graph.errors import BadInput, Conflict, NotFound
from graph.intro_port import AskSide, IntroRole
from graph.intros import (
    AccountAsk,
    AskKind,
    AskStatus,
    Candidate,
    CandidateSignals,
    IntroducedEdge,
    Introduction,
    IntroStatus,
)
from graph.model import Page, Partnership, PartnershipStatus
from graph.neo4j import cypher
from graph.neo4j import intro_cypher as q
from graph.neo4j.records import (
    Row,
    pair_key,
    partnership_params,
    to_datetime,
    to_optional_datetime,
)
from graph.neo4j.statements import check_aware, fetch_rows
from graph.neo4j.webhooks import add_outbox
from graph.outbox import ask_events, introduction_events
from graph.paging import check_first, page

T = TypeVar("T")


# --- records --------------------------------------------------------------------------


def introduction_params(i: Introduction) -> dict[str, Any]:
    for name in ("created_at", "updated_at", "expires_at", "forwarded_at", "decided_at"):
        check_aware(getattr(i, name), name)
    return {
        "id": i.id,
        "requester_org": i.requester_org,
        "target_org": i.target_org,
        "broker_org": i.broker_org,
        "message": i.message,
        "status": str(i.status),
        "requested_by": i.requested_by,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "expires_at": i.expires_at,
        "pair_key": i.pair_key,
        "open_pair": i.pair_key if i.status.is_open else None,
        "forwarded_at": i.forwarded_at,
        "decided_at": i.decided_at,
        "decided_by_org": i.decided_by_org,
        "note": i.note,
        "partnership_id": i.partnership_id,
    }


def introduction_from(row: Row) -> Introduction:
    return Introduction(
        id=row["id"],
        requester_org=row["requester_org"],
        target_org=row["target_org"],
        broker_org=row.get("broker_org"),
        message=row["message"],
        status=IntroStatus(row["status"]),
        requested_by=row["requested_by"],
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
        expires_at=to_datetime(row["expires_at"]),
        pair_key=row["pair_key"],
        forwarded_at=to_optional_datetime(row.get("forwarded_at")),
        decided_at=to_optional_datetime(row.get("decided_at")),
        decided_by_org=row.get("decided_by_org"),
        note=row.get("note"),
        partnership_id=row.get("partnership_id"),
    )


def edge_params(e: IntroducedEdge) -> dict[str, Any]:
    check_aware(e.at, "at")
    return {
        "introduction_id": e.introduction_id,
        "credited_org": e.credited_org,
        "from_org": e.from_org,
        "to_org": e.to_org,
        "at": e.at,
    }


def edge_from(row: Row) -> IntroducedEdge:
    return IntroducedEdge(
        introduction_id=row["introduction_id"],
        credited_org=row["credited_org"],
        from_org=row["from_org"],
        to_org=row["to_org"],
        at=to_datetime(row["at"]),
    )


def ask_params(a: AccountAsk) -> dict[str, Any]:
    for name in ("created_at", "updated_at", "expires_at", "answered_at"):
        check_aware(getattr(a, name), name)
    return {
        "id": a.id,
        "requester_org": a.requester_org,
        "requester_user": a.requester_user,
        "partner_org": a.partner_org,
        "account_id": a.account_id,
        "partner_account_ids": sorted(a.partner_account_ids),
        "kind": str(a.kind),
        "message": a.message,
        "status": str(a.status),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "expires_at": a.expires_at,
        "answered_at": a.answered_at,
        "answered_by": a.answered_by,
        "note": a.note,
    }


def ask_from(row: Row) -> AccountAsk:
    return AccountAsk(
        id=row["id"],
        requester_org=row["requester_org"],
        requester_user=row["requester_user"],
        partner_org=row["partner_org"],
        account_id=row["account_id"],
        partner_account_ids=tuple(sorted(row.get("partner_account_ids") or ())),
        kind=AskKind(row["kind"]),
        message=row["message"],
        status=AskStatus(row["status"]),
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
        expires_at=to_datetime(row["expires_at"]),
        answered_at=to_optional_datetime(row.get("answered_at")),
        answered_by=row.get("answered_by"),
        note=row.get("note"),
    )


async def _lock(tx: AsyncManagedTransaction, find: LiteralString, id_: str) -> str | None:
    """Find a node by id (read-only), then hold its write lock until commit by element
    id. Returns the element id, None when there is no such node."""
    found = await fetch_rows(tx, find, {"id": id_})
    if not found:
        return None
    node = str(found[0])
    await fetch_rows(tx, q.LOCK_NODES, {"nodes": [node]})
    return node


# --- the mixin ------------------------------------------------------------------------


class Neo4jIntros:
    """Discovery, blocks, introductions and account asks; Neo4jStore supplies the
    driver and the read plumbing."""

    if TYPE_CHECKING:
        _driver: AsyncDriver
        _database: str
        _server: str

        async def _read(self, query: LiteralString, **params: Any) -> list[Row]: ...

        async def _transaction(
            self, work: Callable[[AsyncManagedTransaction], Awaitable[T]], *, write: bool
        ) -> T: ...

        async def _locked_write(
            self,
            work: Callable[[AsyncManagedTransaction], Awaitable[T]],
            *,
            constraint_is_answer: bool = False,
        ) -> T: ...

    # --- discovery ----------------------------------------------------------------------

    async def discovery_candidates(self, acting_org: str, *, limit: int) -> list[Candidate]:
        if limit <= 0:
            return []
        [row] = await self._read(q.DISCOVERY_CANDIDATES, org=acting_org, limit=limit)
        rows = cast(list[list[Any]], row)
        # One row: [id, discoverable, shared] lists, in the query's ORDER BY order
        # (collect() keeps the order of the rows it aggregates).
        return [
            Candidate(
                org_id=str(org_id),
                discoverable=bool(discoverable),
                shared_partners=tuple(sorted(shared)),
            )
            for org_id, discoverable, shared in rows
        ]

    async def candidate_signals(
        self, acting_org: str, candidate_ids: Sequence[str], *, population: str
    ) -> dict[str, CandidateSignals]:
        wanted = sorted(set(candidate_ids))
        if not wanted:
            return {}
        others = [c for c in wanted if c != acting_org]
        params = {"org": acting_org, "candidates": others, "population": population}

        async def work(tx: AsyncManagedTransaction) -> tuple[list[Any], list[Any]]:
            if not others:
                return [], []
            # One row each: a list of [org, n] pairs.
            [overlap] = await fetch_rows(tx, q.CUSTOMER_OVERLAP, params)
            [won] = await fetch_rows(tx, q.CO_WON_DEALS, params)
            return overlap, won

        overlap, won = await self._transaction(work, write=False)
        overlaps = {str(org): int(n) for org, n in overlap}
        wins = {str(org): int(n) for org, n in won}
        return {c: CandidateSignals(c, overlaps.get(c, 0), wins.get(c, 0)) for c in wanted}

    # --- blocks -------------------------------------------------------------------------

    async def set_block(
        self, acting_org: str, other_org: str, blocked: bool, *, at: datetime
    ) -> bool:
        check_aware(at, "at")
        if acting_org == other_org:
            raise BadInput("an org cannot block itself", field="other_org")

        async def work(tx: AsyncManagedTransaction) -> bool:
            found = await fetch_rows(tx, q.ORGS_EXIST, {"ids": [acting_org, other_org]})
            if len(set(found)) < 2:
                raise NotFound("both orgs of a block must exist")
            # Concurrent blockers of one org queue on its node's lock, so the existence
            # check and the write below see the last committed state.
            [node] = await fetch_rows(tx, q.FIND_ORG, {"id": acting_org})
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": [node]})
            params: dict[str, Any] = {"org": acting_org, "other": other_org}
            if blocked:
                [changed] = await fetch_rows(tx, q.BLOCK, {**params, "at": at})
                return bool(changed)
            [removed] = await fetch_rows(tx, q.UNBLOCK, params)
            return int(removed) > 0

        return await self._locked_write(work, constraint_is_answer=True)

    async def blocked_between(self, org_a: str, org_b: str) -> bool:
        rows = await self._read(q.BLOCKED_BETWEEN, a=org_a, b=org_b)
        return bool(rows and rows[0])

    async def blocked_orgs(self, acting_org: str) -> list[str]:
        rows = await self._read(q.BLOCKED_ORGS, org=acting_org)
        return [str(row) for row in rows]

    # --- introductions ------------------------------------------------------------------

    async def insert_introduction(self, introduction: Introduction) -> Introduction:
        params = introduction_params(introduction)

        async def work(tx: AsyncManagedTransaction) -> Introduction:
            rows = await fetch_rows(tx, q.INSERT_INTRODUCTION, {"intro": params})
            written = introduction_from(rows[0])
            await add_outbox(tx, introduction_events(written, None))
            return written

        return await self._locked_write(work, constraint_is_answer=True)

    async def get_introductions(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, Introduction]:
        if not ids:
            return {}
        rows = await self._read(q.GET_INTRODUCTIONS, org=acting_org, ids=sorted(set(ids)))
        return {i.id: i for i in map(introduction_from, rows)}

    async def list_introductions(
        self,
        acting_org: str,
        *,
        role: IntroRole,
        statuses: Sequence[IntroStatus] | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[Introduction]:
        check_first(first)
        if backward:
            query = {
                "requester": q.LIST_INTRODUCTIONS_REQUESTER_BACKWARD,
                "target": q.LIST_INTRODUCTIONS_TARGET_BACKWARD,
                "broker": q.LIST_INTRODUCTIONS_BROKER_BACKWARD,
            }[role]
        else:
            query = {
                "requester": q.LIST_INTRODUCTIONS_REQUESTER,
                "target": q.LIST_INTRODUCTIONS_TARGET,
                "broker": q.LIST_INTRODUCTIONS_BROKER,
            }[role]
        rows = await self._read(
            query,
            org=acting_org,
            after=after,
            statuses=None if statuses is None else [str(s) for s in statuses],
            limit=first + 1,
        )
        items = [introduction_from(row) for row in rows]
        return page(items, first, lambda i: i.id, backward=backward)

    async def update_introduction(
        self, current: Introduction, new: Introduction
    ) -> Introduction | None:
        params = {**introduction_params(new), "id": current.id}

        async def work(tx: AsyncManagedTransaction) -> Introduction | None:
            node = await _lock(tx, q.FIND_INTRODUCTION, current.id)
            if node is None:
                return None
            rows = await fetch_rows(
                tx,
                q.UPDATE_INTRODUCTION,
                {"node": node, "expected": str(current.status), "intro": params},
            )
            if not rows:
                return None
            written = introduction_from(rows[0])
            await add_outbox(tx, introduction_events(written, current.status))
            return written

        return await self._locked_write(work, constraint_is_answer=True)

    async def accept_introduction(
        self,
        current: Introduction,
        new: Introduction,
        partnership: Partnership,
        edge: IntroducedEdge,
    ) -> Introduction | None:
        if new.status.is_open:
            raise BadInput("an accepted introduction is no longer open", field="status")
        if partnership.status is not PartnershipStatus.ACTIVE:
            raise BadInput("an introduction creates an ACTIVE partnership", field="status")
        params = {**introduction_params(new), "id": current.id}
        p = partnership_params(partnership)
        e = edge_params(edge)
        live_key = pair_key(partnership.inviter_id, partnership.invitee_id)

        async def work(tx: AsyncManagedTransaction) -> Introduction | None:
            node = await _lock(tx, q.FIND_INTRODUCTION, current.id)
            if node is None:
                return None
            rows = await fetch_rows(
                tx,
                q.UPDATE_INTRODUCTION,
                {"node": node, "expected": str(current.status), "intro": params},
            )
            if not rows:
                return None
            # Raising rolls the transaction back: nothing is written. A live one created
            # concurrently fails the insert on the live_key constraint (Conflict too).
            if await fetch_rows(tx, cypher.LIVE_PARTNERSHIP, {"live_key": live_key}):
                raise Conflict("the pair already has a live partnership")
            if not await fetch_rows(tx, q.ACCEPT_WRITES, {"p": p, "edge": e}):
                raise NotFound("the orgs of the introduction must exist")
            written = introduction_from(rows[0])
            await add_outbox(tx, introduction_events(written, current.status))
            return written

        return await self._locked_write(work, constraint_is_answer=True)

    async def expire_introductions(self, now: datetime, *, limit: int) -> list[Introduction]:
        check_aware(now, "now")
        if limit <= 0:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[Introduction]:
            candidates = await fetch_rows(tx, q.EXPIRY_CANDIDATES, {"now": now, "limit": limit})
            if not candidates:
                return []
            nodes = sorted(str(c["node"]) for c in candidates)
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": nodes})
            rows = await fetch_rows(tx, q.EXPIRE_INTRODUCTIONS, {"nodes": nodes, "now": now})
            expired = [
                (introduction_from(row), IntroStatus(row["previous_status"])) for row in rows
            ]
            await add_outbox(tx, [e for i, old in expired for e in introduction_events(i, old)])
            return [i for i, _ in expired]

        expired = await self._locked_write(work, constraint_is_answer=True)
        return sorted(expired, key=lambda i: (i.expires_at, i.id))

    async def last_declined(self, requester_org: str, target_org: str) -> datetime | None:
        rows = await self._read(q.LAST_DECLINED, requester=requester_org, target=target_org)
        return to_optional_datetime(rows[0]) if rows else None

    async def requests_since(self, acting_org: str, since: datetime) -> int:
        check_aware(since, "since")
        rows = await self._read(q.REQUESTS_SINCE, org=acting_org, since=since)
        count: Any = rows[0]  # a plain value, not a map
        return int(count)

    async def introduced_edges(self, org_ids: Sequence[str]) -> list[IntroducedEdge]:
        if not org_ids:
            return []
        rows = await self._read(q.INTRODUCED_EDGES, ids=sorted(set(org_ids)))
        return [edge_from(row) for row in rows]

    # --- account-level asks -------------------------------------------------------------

    async def insert_ask(self, ask: AccountAsk) -> AccountAsk:
        params = ask_params(ask)

        async def work(tx: AsyncManagedTransaction) -> AccountAsk:
            rows = await fetch_rows(tx, q.INSERT_ASK, {"ask": params})
            written = ask_from(rows[0])
            await add_outbox(tx, ask_events(written, None))
            return written

        return await self._locked_write(work, constraint_is_answer=True)

    async def get_asks(self, acting_org: str, ids: Sequence[str]) -> dict[str, AccountAsk]:
        if not ids:
            return {}
        rows = await self._read(q.GET_ASKS, org=acting_org, ids=sorted(set(ids)))
        return {a.id: a for a in map(ask_from, rows)}

    async def list_asks(
        self,
        acting_org: str,
        *,
        side: AskSide,
        statuses: Sequence[AskStatus] | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[AccountAsk]:
        check_first(first)
        if side == "requester":
            query = q.LIST_ASKS_REQUESTER_BACKWARD if backward else q.LIST_ASKS_REQUESTER
        else:
            query = q.LIST_ASKS_PARTNER_BACKWARD if backward else q.LIST_ASKS_PARTNER
        rows = await self._read(
            query,
            org=acting_org,
            after=after,
            statuses=None if statuses is None else [str(s) for s in statuses],
            limit=first + 1,
        )
        items = [ask_from(row) for row in rows]
        return page(items, first, lambda a: a.id, backward=backward)

    async def update_ask(self, current: AccountAsk, new: AccountAsk) -> AccountAsk | None:
        params = {**ask_params(new), "id": current.id}

        async def work(tx: AsyncManagedTransaction) -> AccountAsk | None:
            node = await _lock(tx, q.FIND_ASK, current.id)
            if node is None:
                return None
            rows = await fetch_rows(
                tx, q.UPDATE_ASK, {"node": node, "expected": str(current.status), "ask": params}
            )
            if not rows:
                return None
            written = ask_from(rows[0])
            await add_outbox(tx, ask_events(written, current.status))
            return written

        return await self._locked_write(work, constraint_is_answer=True)

    async def expire_asks(self, now: datetime, *, limit: int) -> list[AccountAsk]:
        check_aware(now, "now")
        if limit <= 0:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[AccountAsk]:
            candidates = await fetch_rows(tx, q.ASK_EXPIRY_CANDIDATES, {"now": now, "limit": limit})
            if not candidates:
                return []
            nodes = sorted(str(c["node"]) for c in candidates)
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": nodes})
            rows = await fetch_rows(tx, q.EXPIRE_ASKS, {"nodes": nodes, "now": now})
            expired = [ask_from(row) for row in rows]
            await add_outbox(tx, [e for a in expired for e in ask_events(a, AskStatus.REQUESTED)])
            return expired

        expired = await self._locked_write(work, constraint_is_answer=True)
        return sorted(expired, key=lambda a: (a.expires_at, a.id))
