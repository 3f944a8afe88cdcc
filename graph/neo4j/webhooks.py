"""The WebhookStore half of the port on Neo4j: a mixin Neo4jStore inherits.

The outbox is written by the deal and introduction mixins through `add_outbox`, inside
their own transactions. Datetimes travel as Neo4j DateTime values, payloads as the JSON
text of graph/outbox.py. The Cypher, and how concurrent dispatchers never take the same
event or delivery, is in graph/neo4j/webhook_cypher.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from neo4j import AsyncManagedTransaction

from graph.errors import BadInput
from graph.model import Page
from graph.neo4j import webhook_cypher as q
from graph.neo4j.records import Row, to_datetime, to_optional_datetime
from graph.neo4j.statements import check_aware, fetch_rows
from graph.outbox import dump_payload, load_payload, new_record_id
from graph.paging import after_time_key, check_first, page, time_cursor
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)

T = TypeVar("T")

ENDPOINT_DELETED = "endpoint deleted"
# A dispatcher that finds its candidates taken by another one (it queued on their locks)
# reads again, so that it does not report a drained outbox while events remain; this
# many reads at most per call.
_CANDIDATE_ROUNDS = 8


async def add_outbox(tx: AsyncManagedTransaction, events: Sequence[OutboxEvent]) -> None:
    """Write outbox events in the caller's transaction (the one of the transition)."""
    if not events:
        return
    await fetch_rows(tx, q.CREATE_OUTBOX_EVENTS, {"events": [_event_params(e) for e in events]})


# --- records --------------------------------------------------------------------------


def _event_params(e: OutboxEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "org_id": e.org_id,
        "event_type": e.event_type.value,
        "payload": dump_payload(e.payload),
        "created_at": e.created_at,
    }


def _event_from(row: Row) -> OutboxEvent:
    return OutboxEvent(
        id=row["id"],
        org_id=row["org_id"],
        event_type=WebhookEventType(row["event_type"]),
        payload=load_payload(row["payload"]),
        created_at=to_datetime(row["created_at"]),
    )


def _endpoint_params(e: WebhookEndpoint) -> dict[str, Any]:
    check_aware(e.created_at, "created_at")
    return {
        "id": e.id,
        "org_id": e.org_id,
        "url": e.url,
        "event_types": [WebhookEventType(t).value for t in e.event_types],
        "secret": e.secret,
        "created_by": e.created_by,
        "created_at": e.created_at,
        "active": e.active,
    }


def _endpoint_from(row: Row) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        org_id=row["org_id"],
        url=row["url"],
        event_types=tuple(WebhookEventType(t) for t in row.get("event_types") or ()),
        secret=row["secret"],
        created_by=row["created_by"],
        created_at=to_datetime(row["created_at"]),
        active=bool(row["active"]),
    )


def _delivery_from(row: Row) -> WebhookDelivery:
    code = row.get("last_status_code")
    return WebhookDelivery(
        id=row["id"],
        org_id=row["org_id"],
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        event_type=WebhookEventType(row["event_type"]),
        payload=load_payload(row["payload"]),
        event_at=to_datetime(row["event_at"]),
        status=DeliveryStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=to_optional_datetime(row.get("next_attempt_at")),
        created_at=to_datetime(row["created_at"]),
        last_attempt_at=to_optional_datetime(row.get("last_attempt_at")),
        last_status_code=None if code is None else int(code),
        last_error=row.get("last_error"),
        delivered_at=to_optional_datetime(row.get("delivered_at")),
    )


def _after(after: str | None) -> tuple[datetime | None, str | None]:
    return (None, None) if after is None else after_time_key(after)


# --- the mixin ------------------------------------------------------------------------


class Neo4jWebhooks:
    """Endpoints, fan-out, claims and attempts; Neo4jStore supplies the plumbing."""

    if TYPE_CHECKING:

        async def _read(self, query: LiteralString, **params: Any) -> list[Row]: ...

        async def _locked_write(
            self,
            work: Callable[[AsyncManagedTransaction], Awaitable[T]],
            *,
            constraint_is_answer: bool = False,
        ) -> T: ...

    # --- endpoints ----------------------------------------------------------------------

    async def create_webhook_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        params = _endpoint_params(endpoint)

        async def work(tx: AsyncManagedTransaction) -> WebhookEndpoint:
            rows = await fetch_rows(tx, q.CREATE_ENDPOINT, {"endpoint": params})
            return _endpoint_from(rows[0])

        return await self._locked_write(work)

    async def get_webhook_endpoints(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookEndpoint]:
        if not ids:
            return {}
        rows = await self._read(q.GET_ENDPOINTS, org=acting_org, ids=sorted(set(ids)))
        return {e.id: e for e in map(_endpoint_from, rows)}

    async def list_webhook_endpoints(
        self, acting_org: str, *, first: int, after: str | None = None, backward: bool = False
    ) -> Page[WebhookEndpoint]:
        check_first(first)
        rows = await self._read(
            q.LIST_ENDPOINTS_BACKWARD if backward else q.LIST_ENDPOINTS,
            org=acting_org,
            after=after,
            limit=first + 1,
        )
        items = [_endpoint_from(row) for row in rows]
        return page(items, first, lambda e: e.id, backward=backward)

    async def deactivate_webhook_endpoint(
        self, acting_org: str, endpoint_id: str
    ) -> WebhookEndpoint | None:
        async def work(tx: AsyncManagedTransaction) -> WebhookEndpoint | None:
            found = await fetch_rows(tx, q.FIND_ENDPOINT, {"id": endpoint_id, "org": acting_org})
            if not found:
                return None
            node = str(found[0])
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": [node]})
            rows = await fetch_rows(
                tx, q.DEACTIVATE_ENDPOINT, {"node": node, "reason": ENDPOINT_DELETED}
            )
            return _endpoint_from(rows[0]) if rows else None

        return await self._locked_write(work)

    # --- the outbox ---------------------------------------------------------------------

    async def list_outbox(
        self, org_id: str, *, first: int, after: str | None = None
    ) -> Page[OutboxEvent]:
        check_first(first)
        after_at, after_id = _after(after)
        rows = await self._read(
            q.LIST_OUTBOX, org=org_id, after_at=after_at, after_id=after_id, limit=first + 1
        )
        items = [_event_from(row) for row in rows[:first]]
        cursors = [time_cursor(e.created_at, e.id) for e in items]
        return Page(items=items, has_next=len(rows) > first, cursors=cursors)

    async def fan_out_outbox(self, *, now: datetime, limit: int) -> int:
        check_aware(now, "now")
        if limit <= 0:
            return 0

        async def work(tx: AsyncManagedTransaction) -> int:
            events: list[OutboxEvent] = []
            for _ in range(_CANDIDATE_ROUNDS):
                wanted = limit - len(events)
                nodes = sorted(
                    str(n) for n in await fetch_rows(tx, q.FAN_OUT_CANDIDATES, {"limit": wanted})
                )
                if not nodes:
                    break
                await fetch_rows(tx, q.LOCK_NODES, {"nodes": nodes})
                rows = await fetch_rows(tx, q.MARK_DISPATCHED, {"nodes": nodes, "now": now})
                events += [_event_from(row) for row in rows]
                if len(events) >= limit:
                    break
            if not events:
                return 0
            # Locked once, after every event: a lock order no other writer inverts.
            orgs = sorted({e.org_id for e in events})
            endpoint_nodes = [
                str(n) for n in await fetch_rows(tx, q.SUBSCRIBED_ENDPOINTS, {"orgs": orgs})
            ]
            subscribed: dict[str, list[tuple[str, set[str]]]] = {}
            if endpoint_nodes:
                await fetch_rows(tx, q.LOCK_NODES, {"nodes": endpoint_nodes})
                for h in await fetch_rows(tx, q.ACTIVE_ENDPOINTS, {"nodes": endpoint_nodes}):
                    subscribed.setdefault(h["org_id"], []).append(
                        (h["id"], set(h.get("event_types") or ()))
                    )
            deliveries = [
                {
                    "id": new_record_id(),
                    "org_id": e.org_id,
                    "endpoint_id": endpoint_id,
                    "event_id": e.id,
                    "event_type": e.event_type.value,
                    "payload": dump_payload(e.payload),
                    "event_at": e.created_at,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for e in sorted(events, key=lambda e: (e.created_at, e.id))
                for endpoint_id, types in sorted(subscribed.get(e.org_id, []))
                if e.event_type.value in types
            ]
            if deliveries:
                await fetch_rows(tx, q.CREATE_DELIVERIES, {"deliveries": deliveries})
            return len(events)

        return await self._locked_write(work)

    # --- deliveries ---------------------------------------------------------------------

    async def claim_due_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[DueDelivery]:
        check_aware(now, "now")
        check_aware(lease_until, "lease_until")
        if limit <= 0:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[DueDelivery]:
            leased: list[WebhookDelivery] = []
            for _ in range(_CANDIDATE_ROUNDS):
                params = {"now": now, "limit": limit - len(leased)}
                nodes = sorted(str(n) for n in await fetch_rows(tx, q.DUE_CANDIDATES, params))
                if not nodes:
                    break
                await fetch_rows(tx, q.LOCK_NODES, {"nodes": nodes})
                rows = await fetch_rows(
                    tx,
                    q.LEASE_DELIVERIES,
                    {"nodes": nodes, "now": now, "lease_until": lease_until},
                )
                leased += [_delivery_from(row) for row in rows]
                if len(leased) >= limit:
                    break
            if not leased:
                return []
            ids = sorted({d.endpoint_id for d in leased})
            targets = {h["id"]: h for h in await fetch_rows(tx, q.ENDPOINT_TARGETS, {"ids": ids})}
            leased.sort(key=lambda d: (d.next_attempt_at or now, d.id))
            return [
                DueDelivery(d, targets[d.endpoint_id]["url"], targets[d.endpoint_id]["secret"])
                for d in leased
            ]

        return await self._locked_write(work)

    async def record_delivery_attempt(
        self, delivery_id: str, outcome: AttemptOutcome
    ) -> WebhookDelivery | None:
        check_aware(outcome.at, "at")
        changes: dict[str, Any] = {
            "last_attempt_at": outcome.at,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }
        if outcome.succeeded:
            changes |= {
                "status": DeliveryStatus.SUCCEEDED.value,
                "next_attempt_at": None,
                "delivered_at": outcome.at,
            }
        elif outcome.next_attempt_at is not None:
            check_aware(outcome.next_attempt_at, "next_attempt_at")
            changes |= {
                "status": DeliveryStatus.PENDING.value,
                "next_attempt_at": outcome.next_attempt_at,
            }
        else:
            changes |= {"status": DeliveryStatus.FAILED.value, "next_attempt_at": None}

        async def work(tx: AsyncManagedTransaction) -> WebhookDelivery | None:
            found = await fetch_rows(tx, q.FIND_DELIVERY, {"id": delivery_id})
            if not found:
                return None
            node = str(found[0])
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": [node]})
            rows = await fetch_rows(tx, q.RECORD_ATTEMPT, {"node": node, "outcome": changes})
            return _delivery_from(rows[0]) if rows else None

        return await self._locked_write(work)

    async def get_webhook_deliveries(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookDelivery]:
        if not ids:
            return {}
        rows = await self._read(q.GET_DELIVERIES, org=acting_org, ids=sorted(set(ids)))
        return {d.id: d for d in map(_delivery_from, rows)}

    async def list_webhook_deliveries(
        self,
        acting_org: str,
        *,
        endpoint_id: str | None = None,
        status: DeliveryStatus | None = None,
        first: int,
        after: str | None = None,
        backward: bool = False,
    ) -> Page[WebhookDelivery]:
        check_first(first)
        after_at, after_id = _after(after)
        rows = await self._read(
            q.LIST_DELIVERIES_BACKWARD if backward else q.LIST_DELIVERIES,
            org=acting_org,
            endpoint=endpoint_id,
            status=None if status is None else DeliveryStatus(status).value,
            after_at=after_at,
            after_id=after_id,
            limit=first + 1,
        )
        items = [_delivery_from(row) for row in rows]
        return page(items, first, lambda d: time_cursor(d.created_at, d.id), backward=backward)

    async def redeliver_webhook(
        self, acting_org: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery | None:
        check_aware(now, "now")

        async def work(tx: AsyncManagedTransaction) -> WebhookDelivery | None:
            found = await fetch_rows(
                tx, q.FIND_ORG_DELIVERY, {"id": delivery_id, "org": acting_org}
            )
            if not found:
                return None
            node = str(found[0])
            await fetch_rows(tx, q.LOCK_NODES, {"nodes": [node]})
            [state] = await fetch_rows(tx, q.DELIVERY_AND_ENDPOINT, {"node": node})
            if not state["active"]:
                raise BadInput("the delivery's endpoint was deleted", field="id")
            current = _delivery_from(state["delivery"])
            if current.status is DeliveryStatus.PENDING:
                return current
            rows = await fetch_rows(
                tx, q.REDELIVER, {"node": node, "expected": current.status.value, "now": now}
            )
            return _delivery_from(rows[0]) if rows else current

        return await self._locked_write(work)
