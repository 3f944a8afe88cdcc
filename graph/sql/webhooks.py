"""SqlWebhooks: the WebhookStore half of the port over SQLAlchemy (SQLite or PostgreSQL).

SqlStore inherits it. The outbox itself is written by the deal and introduction mixins
(graph/sql/outbox.py), in the unit of the change. Any number of dispatchers may call the
methods below at once:

- Fan-out takes undispatched events with a compare-and-set
  (`UPDATE ... SET dispatched_at WHERE dispatched_at IS NULL`), and only the events it
  marked get deliveries; the unique (event_id, endpoint_id) constraint backs that up.
  On PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so concurrent
  dispatchers take different events instead of queueing; SQLite write units are
  serialized (BEGIN IMMEDIATE), so the second one sees the first's marks.
- A claim sets `lease_until` on due deliveries whose lease is absent or expired, again as
  a compare-and-set after a `SKIP LOCKED` read on PostgreSQL. An attempt's outcome clears
  the lease; a dispatcher that dies leaves a lease that simply expires.
- Fan-out reads the endpoints `FOR SHARE` on PostgreSQL, so that deactivating an
  endpoint (which fails its PENDING deliveries) waits for a running fan-out and then
  fails what it created, instead of leaving PENDING deliveries on an inactive endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graph.errors import BadInput
from graph.model import Page
from graph.outbox import dump_payload, load_payload, new_record_id
from graph.paging import after_time_key, check_first, page, time_cursor
from graph.sql.chunks import in_chunks
from graph.sql.deals import SqlDeals
from graph.sql.keyset import by_key, by_time_key
from graph.sql.outbox import OUTBOX
from graph.sql.tables import metadata
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)

ENDPOINTS: Table = metadata.tables["webhook_endpoints"]
DELIVERIES: Table = metadata.tables["webhook_deliveries"]

PENDING = DeliveryStatus.PENDING.value
ENDPOINT_DELETED = "endpoint deleted"


class SqlWebhooks(SqlDeals):
    # --- endpoints ----------------------------------------------------------------------

    async def create_webhook_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        statement = insert(ENDPOINTS).values(_endpoint_values(endpoint))

        async def work(session: AsyncSession) -> None:
            await session.execute(statement)

        await self._write_unit(work, conflict=f"webhook endpoint {endpoint.id} already exists")
        return endpoint

    async def get_webhook_endpoints(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookEndpoint]:
        found: dict[str, WebhookEndpoint] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(ENDPOINTS).where(
                    ENDPOINTS.c.id.in_(chunk), ENDPOINTS.c.org_id == acting_org
                )
                for row in await session.execute(query):
                    found[row.id] = _endpoint(row)
        return found

    async def list_webhook_endpoints(
        self, acting_org: str, *, first: int, after: str | None = None, backward: bool = False
    ) -> Page[WebhookEndpoint]:
        check_first(first)
        query = by_key(
            select(ENDPOINTS).where(ENDPOINTS.c.org_id == acting_org, ENDPOINTS.c.active.is_(True)),
            ENDPOINTS.c.id,
            descending=False,
            first=first,
            after=after,
            backward=backward,
        )
        async with self._unit() as session:
            items = [_endpoint(row) for row in await session.execute(query)]
        return page(items, first, lambda e: e.id, backward=backward)

    async def deactivate_webhook_endpoint(
        self, acting_org: str, endpoint_id: str
    ) -> WebhookEndpoint | None:
        deactivate = (
            update(ENDPOINTS)
            .where(ENDPOINTS.c.id == endpoint_id, ENDPOINTS.c.org_id == acting_org)
            .values(active=False)
            .returning(*ENDPOINTS.c)
        )
        fail_pending = (
            update(DELIVERIES)
            .where(DELIVERIES.c.endpoint_id == endpoint_id, DELIVERIES.c.status == PENDING)
            .values(
                status=DeliveryStatus.FAILED.value,
                next_attempt_at=None,
                lease_until=None,
                last_error=ENDPOINT_DELETED,
            )
        )

        async def work(session: AsyncSession) -> WebhookEndpoint | None:
            row = (await session.execute(deactivate)).one_or_none()
            if row is None:
                return None
            await session.execute(fail_pending)
            return _endpoint(row)

        return await self._write_unit(work)

    # --- the outbox ---------------------------------------------------------------------

    async def list_outbox(
        self, org_id: str, *, first: int, after: str | None = None
    ) -> Page[OutboxEvent]:
        check_first(first)
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.org_id == org_id)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(first + 1)
        )
        if after is not None:
            at, event_id = after_time_key(after)
            query = query.where(
                or_(
                    OUTBOX.c.created_at > at,
                    and_(OUTBOX.c.created_at == at, OUTBOX.c.id > event_id),
                )
            )
        async with self._unit() as session:
            items = [_event(row) for row in await session.execute(query)]
        return page(items, first, lambda e: time_cursor(e.created_at, e.id))

    async def fan_out_outbox(self, *, now: datetime, limit: int) -> int:
        if limit <= 0:
            return 0
        postgres = self._backend == "postgresql"
        candidates = (
            select(OUTBOX.c.id)
            .where(OUTBOX.c.dispatched_at.is_(None))
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        if postgres:  # concurrent dispatchers take different events
            candidates = candidates.with_for_update(skip_locked=True)

        async def work(session: AsyncSession) -> int:
            ids = list(await session.scalars(candidates))
            if not ids:
                return 0
            mark = (
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(ids), OUTBOX.c.dispatched_at.is_(None))
                .values(dispatched_at=now)
                .returning(*OUTBOX.c)
            )
            events = sorted(
                (_event(row) for row in await session.execute(mark)),
                key=lambda e: (e.created_at, e.id),
            )
            if not events:
                return 0
            endpoints_query = (
                select(ENDPOINTS.c.id, ENDPOINTS.c.org_id, ENDPOINTS.c.event_types)
                .where(
                    ENDPOINTS.c.org_id.in_(sorted({e.org_id for e in events})),
                    ENDPOINTS.c.active.is_(True),
                )
                .order_by(ENDPOINTS.c.id)
            )
            if postgres:
                endpoints_query = endpoints_query.with_for_update(read=True)
            subscribed: dict[str, list[tuple[str, set[str]]]] = {}
            for endpoint_id, org_id, event_types in await session.execute(endpoints_query):
                subscribed.setdefault(org_id, []).append((endpoint_id, set(event_types)))
            rows = [
                {
                    "id": new_record_id(),
                    "org_id": e.org_id,
                    "endpoint_id": endpoint_id,
                    "event_id": e.id,
                    "event_type": e.event_type.value,
                    "payload": dump_payload(e.payload),
                    "event_at": e.created_at,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "lease_until": None,
                    "created_at": now,
                    "last_attempt_at": None,
                    "last_status_code": None,
                    "last_error": None,
                    "delivered_at": None,
                }
                for e in events
                for endpoint_id, types in subscribed.get(e.org_id, [])
                if e.event_type.value in types
            ]
            if rows:
                await session.execute(insert(DELIVERIES), rows)
            return len(events)

        return await self._write_unit(work)

    # --- deliveries ---------------------------------------------------------------------

    async def claim_due_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[DueDelivery]:
        if limit <= 0:
            return []
        postgres = self._backend == "postgresql"
        candidates = (
            select(DELIVERIES.c.id)
            .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
            .where(_due(now), ENDPOINTS.c.active.is_(True))
            .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
            .limit(limit)
        )
        if postgres:  # concurrent dispatchers claim different deliveries
            candidates = candidates.with_for_update(of=DELIVERIES, skip_locked=True)

        async def work(session: AsyncSession) -> list[DueDelivery]:
            ids = list(await session.scalars(candidates))
            if not ids:
                return []
            lease = (
                update(DELIVERIES)
                .where(DELIVERIES.c.id.in_(ids), _due(now))
                .values(lease_until=lease_until)
                .returning(*DELIVERIES.c)
            )
            leased = [_delivery(row) for row in await session.execute(lease)]
            if not leased:
                return []
            targets: dict[str, tuple[str, str]] = {}
            query = select(ENDPOINTS.c.id, ENDPOINTS.c.url, ENDPOINTS.c.secret).where(
                ENDPOINTS.c.id.in_(sorted({d.endpoint_id for d in leased}))
            )
            for endpoint_id, url, secret in await session.execute(query):
                targets[endpoint_id] = (url, secret)
            leased.sort(key=lambda d: (d.next_attempt_at or now, d.id))
            return [DueDelivery(d, *targets[d.endpoint_id]) for d in leased]

        return await self._write_unit(work)

    async def record_delivery_attempt(
        self, delivery_id: str, outcome: AttemptOutcome
    ) -> WebhookDelivery | None:
        values: dict[str, Any] = {
            "attempts": DELIVERIES.c.attempts + 1,
            "last_attempt_at": outcome.at,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "lease_until": None,
        }
        if outcome.succeeded:
            values |= {
                "status": DeliveryStatus.SUCCEEDED.value,
                "next_attempt_at": None,
                "delivered_at": outcome.at,
            }
        elif outcome.next_attempt_at is not None:
            values |= {"status": PENDING, "next_attempt_at": outcome.next_attempt_at}
        else:
            values |= {"status": DeliveryStatus.FAILED.value, "next_attempt_at": None}
        statement = (
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.status == PENDING)
            .values(values)
            .returning(*DELIVERIES.c)
        )

        async def work(session: AsyncSession) -> WebhookDelivery | None:
            row = (await session.execute(statement)).one_or_none()
            return None if row is None else _delivery(row)

        return await self._write_unit(work)

    async def get_webhook_deliveries(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookDelivery]:
        found: dict[str, WebhookDelivery] = {}
        async with self._unit() as session:
            for chunk in in_chunks(sorted(set(ids))):
                query = select(DELIVERIES).where(
                    DELIVERIES.c.id.in_(chunk), DELIVERIES.c.org_id == acting_org
                )
                for row in await session.execute(query):
                    found[row.id] = _delivery(row)
        return found

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
        query = select(DELIVERIES).where(DELIVERIES.c.org_id == acting_org)
        if endpoint_id is not None:
            query = query.where(DELIVERIES.c.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(DELIVERIES.c.status == DeliveryStatus(status).value)
        query = by_time_key(
            query,
            DELIVERIES.c.created_at,
            DELIVERIES.c.id,
            descending=True,
            first=first,
            after=None if after is None else after_time_key(after),
            backward=backward,
        )
        async with self._unit() as session:
            items = [_delivery(row) for row in await session.execute(query)]
        return page(items, first, lambda d: time_cursor(d.created_at, d.id), backward=backward)

    async def redeliver_webhook(
        self, acting_org: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery | None:
        query = (
            select(DELIVERIES, ENDPOINTS.c.active.label("endpoint_active"))
            .join(ENDPOINTS, ENDPOINTS.c.id == DELIVERIES.c.endpoint_id)
            .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.org_id == acting_org)
        )
        if self._backend == "postgresql":  # the status compared below stays put
            query = query.with_for_update(of=DELIVERIES)

        async def work(session: AsyncSession) -> WebhookDelivery | None:
            row = (await session.execute(query)).one_or_none()
            if row is None:
                return None
            if not row.endpoint_active:
                raise BadInput("the delivery's endpoint was deleted", field="id")
            current = _delivery(row)
            if current.status is DeliveryStatus.PENDING:
                return current
            statement = (
                update(DELIVERIES)
                .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.status == current.status)
                .values(status=PENDING, next_attempt_at=now, lease_until=None)
                .returning(*DELIVERIES.c)
            )
            moved = (await session.execute(statement)).one_or_none()
            return current if moved is None else _delivery(moved)

        return await self._write_unit(work)


# --- helpers ------------------------------------------------------------------------------


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        DELIVERIES.c.status == PENDING,
        DELIVERIES.c.next_attempt_at <= now,
        or_(DELIVERIES.c.lease_until.is_(None), DELIVERIES.c.lease_until <= now),
    )


def _endpoint_values(e: WebhookEndpoint) -> dict[str, Any]:
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


def _endpoint(row: Row[Any]) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        org_id=row.org_id,
        url=row.url,
        event_types=tuple(WebhookEventType(t) for t in row.event_types),
        secret=row.secret,
        created_by=row.created_by,
        created_at=row.created_at,
        active=bool(row.active),
    )


def _event(row: Row[Any]) -> OutboxEvent:
    return OutboxEvent(
        id=row.id,
        org_id=row.org_id,
        event_type=WebhookEventType(row.event_type),
        payload=load_payload(row.payload),
        created_at=row.created_at,
    )


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        org_id=row.org_id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=WebhookEventType(row.event_type),
        payload=load_payload(row.payload),
        event_at=row.event_at,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )
