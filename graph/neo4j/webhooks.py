"""The WebhookStore half of the port on Neo4j (in progress on this branch)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graph.model import Page
from graph.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)


class Neo4jWebhooks:
    async def create_webhook_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        raise NotImplementedError

    async def get_webhook_endpoints(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookEndpoint]:
        raise NotImplementedError

    async def list_webhook_endpoints(
        self, acting_org: str, *, first: int, after: str | None = None
    ) -> Page[WebhookEndpoint]:
        raise NotImplementedError

    async def deactivate_webhook_endpoint(
        self, acting_org: str, endpoint_id: str
    ) -> WebhookEndpoint | None:
        raise NotImplementedError

    async def list_outbox(
        self, org_id: str, *, first: int, after: str | None = None
    ) -> Page[OutboxEvent]:
        raise NotImplementedError

    async def fan_out_outbox(self, *, now: datetime, limit: int) -> int:
        raise NotImplementedError

    async def claim_due_deliveries(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[DueDelivery]:
        raise NotImplementedError

    async def record_delivery_attempt(
        self, delivery_id: str, outcome: AttemptOutcome
    ) -> WebhookDelivery | None:
        raise NotImplementedError

    async def get_webhook_deliveries(
        self, acting_org: str, ids: Sequence[str]
    ) -> dict[str, WebhookDelivery]:
        raise NotImplementedError

    async def list_webhook_deliveries(
        self,
        acting_org: str,
        *,
        endpoint_id: str | None = None,
        status: DeliveryStatus | None = None,
        first: int,
        after: str | None = None,
    ) -> Page[WebhookDelivery]:
        raise NotImplementedError

    async def redeliver_webhook(
        self, acting_org: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery | None:
        raise NotImplementedError
