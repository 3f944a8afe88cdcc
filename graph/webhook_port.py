"""The webhook half of the GraphStore port: the outbox, endpoints and deliveries.

Outbox events are not written through this port: every store method that records a deal
registration transition or an introduction/ask transition also writes, in the same
transaction, one OutboxEvent per party org of that record (vendor and partner; requester,
target and broker; asker and partner). OVERLAP events are built by the caller, which
applies the sharing policy in Python, and handed to `upsert_accounts` / `delete_accounts`
(`outbox=`), which write them in the transaction of the accounts. The dispatcher then uses
the calls below, which are safe with any number of dispatchers at once (compare-and-set,
never a Python lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from graph.model import Page
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


class WebhookStore(Protocol):
    # --- endpoints ----------------------------------------------------------------------

    async def create_webhook_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        """Insert an endpoint; Conflict if the id exists."""
        ...

    async def get_webhook_endpoints(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookEndpoint]:
        """The acting org's endpoints among `ids` (active or not)."""
        ...

    async def list_webhook_endpoints(
        self, acting_org: str, *, first: int, after: str | None = None, backward: bool = False
    ) -> Page[WebhookEndpoint]:
        """The acting org's active endpoints, ordered by id."""
        ...

    async def deactivate_webhook_endpoint(
        self, acting_org: str, endpoint_id: str
    ) -> WebhookEndpoint | None:
        """Mark the acting org's endpoint inactive (its deliveries stay on record; PENDING
        ones become FAILED with last_error "endpoint deleted"). None if not the org's."""
        ...

    # --- the outbox ---------------------------------------------------------------------

    async def list_outbox(
        self, org_id: str, *, first: int, after: str | None = None
    ) -> Page[OutboxEvent]:
        """The org's outbox events, oldest first (created_at, then id)."""
        ...

    async def fan_out_outbox(self, *, now: datetime, limit: int) -> int:
        """Take up to `limit` not yet dispatched outbox events, oldest first, and in one
        transaction create one PENDING delivery (attempts 0, next_attempt_at `now`) per
        active endpoint of the event's org subscribed to its type, and mark the events
        dispatched. Concurrent callers never fan out the same event twice. Returns the
        number of events taken (0: the outbox is drained)."""
        ...

    # --- deliveries ---------------------------------------------------------------------

    async def claim_due_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[DueDelivery]:
        """Up to `limit` PENDING deliveries of active endpoints with next_attempt_at <= now
        and no unexpired lease, oldest next_attempt_at first, leased until `lease_until`
        (compare-and-set: concurrent callers never claim the same delivery)."""
        ...

    async def record_delivery_attempt(
        self, delivery_id: str, outcome: AttemptOutcome
    ) -> WebhookDelivery | None:
        """Count one attempt, store its outcome and release the lease: SUCCEEDED when it
        succeeded; else PENDING at outcome.next_attempt_at, or FAILED when that is None.
        None if the delivery is not PENDING (it was settled meanwhile)."""
        ...

    async def get_webhook_deliveries(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookDelivery]:
        """The acting org's deliveries among `ids`."""
        ...

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
        """The acting org's deliveries, newest first (created_at desc, then id desc)."""
        ...

    async def redeliver_webhook(
        self, acting_org: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery | None:
        """Put the acting org's SUCCEEDED or FAILED delivery back to PENDING with
        next_attempt_at `now` (attempts are kept: they count every try). Unchanged if it is
        already PENDING. None if not the org's; BadInput if its endpoint is inactive."""
        ...
