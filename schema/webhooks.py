"""Webhooks: endpoints an org registers, and the record of every delivery to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graph.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEventType
from resolvers.webhooks import endpoints
from schema.context import Info
from schema.ids import decode
from schema.pagination import edges_of, window
from schema.payloads import UserError, attempt

ENDPOINTS_CURSOR = "webhookEndpoints"
DELIVERIES_CURSOR = "webhookDeliveries"

strawberry.enum(WebhookEventType, description="What happened: see docs/webhooks.md.")
strawberry.enum(DeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type(
    name="WebhookEndpoint",
    description="An HTTPS URL the org's events are posted to, signed with the endpoint's "
    "secret (shown once, by createWebhookEndpoint). ADMIN only.",
)
class WebhookEndpointNode(relay.Node):
    id: relay.NodeID[str]
    url: str
    event_types: list[WebhookEventType]
    active: bool = strawberry.field(description="False once deleted.")
    created_at: datetime

    @classmethod
    def from_record(cls, record: WebhookEndpoint) -> Self:
        return cls(
            id=record.id,
            url=record.url,
            event_types=list(record.event_types),
            active=record.active,
            created_at=record.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        ids = list(node_ids)
        found = await endpoints.get_endpoints(context.store, context.actor, ids)
        return [cls.from_record(found[i]) if i in found else None for i in ids]


@strawberry.type(
    name="WebhookDelivery",
    description="One event to one endpoint, with the record of its attempts. ADMIN only.",
)
class WebhookDeliveryNode(relay.Node):
    id: relay.NodeID[str]
    event_id: str = strawberry.field(
        description="The event's id (`id` in the body): the same for every endpoint and "
        "every attempt, so receivers deduplicate on it."
    )
    event_type: WebhookEventType
    event_at: datetime
    payload: JSON = strawberry.field(description="The body's `data`.")
    status: DeliveryStatus
    attempts: int = strawberry.field(description="Every try, redeliveries included.")
    next_attempt_at: datetime | None = strawberry.field(description="Null unless PENDING.")
    last_attempt_at: datetime | None
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status, if it answered."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed, in short (never the receiver's body)."
    )
    delivered_at: datetime | None
    created_at: datetime
    _record: strawberry.Private[WebhookDelivery]

    @classmethod
    def from_record(cls, record: WebhookDelivery) -> Self:
        return cls(
            id=record.id,
            event_id=record.event_id,
            event_type=record.event_type,
            event_at=record.event_at,
            payload=cast(JSON, dict(record.payload)),
            status=record.status,
            attempts=record.attempts,
            next_attempt_at=record.next_attempt_at,
            last_attempt_at=record.last_attempt_at,
            last_status_code=record.last_status_code,
            last_error=record.last_error,
            delivered_at=record.delivered_at,
            created_at=record.created_at,
            _record=record,
        )

    @strawberry.field
    async def endpoint(self, info: Info) -> WebhookEndpointNode | None:
        found = await info.context.loaders.webhook_endpoint.load(
            (info.context.actor.org_id, self._record.endpoint_id)
        )
        return WebhookEndpointNode.from_record(found) if found is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False, **_: Any
    ) -> list[Self | None]:
        context = info.context
        ids = list(node_ids)
        found = await endpoints.get_deliveries(context.store, context.actor, ids)
        return [cls.from_record(found[i]) if i in found else None for i in ids]


@strawberry.type(name="WebhookEndpointConnection")
class WebhookEndpointConnection(relay.Connection[WebhookEndpointNode]):
    pass


@strawberry.type(name="WebhookDeliveryConnection")
class WebhookDeliveryConnection(relay.Connection[WebhookDeliveryNode]):
    pass


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The org's active webhook endpoints, oldest first (ADMIN).")
    async def webhook_endpoints(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> WebhookEndpointConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(ENDPOINTS_CURSOR, first, after, last, before)
        page = await endpoints.list_endpoints(
            context.store, actor, first=size, after=key, backward=backward
        )
        edges, page_info = edges_of(ENDPOINTS_CURSOR, page, WebhookEndpointNode.from_record)
        return WebhookEndpointConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="The org's webhook deliveries, newest first (ADMIN).")
    async def webhook_deliveries(
        self,
        info: Info,
        endpoint_id: relay.GlobalID | None = None,
        status: DeliveryStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> WebhookDeliveryConnection:
        context, actor = info.context, info.context.actor
        size, key, backward = window(DELIVERIES_CURSOR, first, after, last, before)
        endpoint = (
            decode(endpoint_id, "WebhookEndpoint", field="endpointId") if endpoint_id else None
        )
        page = await endpoints.list_deliveries(
            context.store,
            actor,
            endpoint_id=endpoint,
            status=status,
            first=size,
            after=key,
            backward=backward,
        )
        edges, page_info = edges_of(DELIVERIES_CURSOR, page, WebhookDeliveryNode.from_record)
        return WebhookDeliveryConnection(edges=edges, page_info=page_info)


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https:// (docs/webhooks.md).")
    event_types: list[WebhookEventType]


@strawberry.input
class DeleteWebhookEndpointInput:
    id: relay.GlobalID


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: relay.GlobalID


@strawberry.type
class CreateWebhookEndpointPayload:
    endpoint: WebhookEndpointNode | None
    secret: str | None = strawberry.field(
        description="The signing secret: shown now, never again. Store it with the receiver."
    )
    errors: list[UserError]


@strawberry.type
class DeleteWebhookEndpointPayload:
    endpoint: WebhookEndpointNode | None
    errors: list[UserError]


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDeliveryNode | None
    errors: list[UserError]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="ADMIN: post the org's events of these types to a URL.")
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> CreateWebhookEndpointPayload:
        context, actor = info.context, info.context.actor
        record, errors = await attempt(
            endpoints.create_endpoint(
                context.store,
                context.identity,
                actor,
                url=input.url,
                event_types=input.event_types,
                config=context.webhooks,
                now=context.now(),
            )
        )
        if record is None:
            return CreateWebhookEndpointPayload(endpoint=None, secret=None, errors=errors)
        return CreateWebhookEndpointPayload(
            endpoint=WebhookEndpointNode.from_record(record), secret=record.secret, errors=[]
        )

    @strawberry.mutation(
        description="ADMIN: stop posting to an endpoint. Its deliveries stay on record; "
        "pending ones become FAILED."
    )
    async def delete_webhook_endpoint(
        self, info: Info, input: DeleteWebhookEndpointInput
    ) -> DeleteWebhookEndpointPayload:
        context, actor = info.context, info.context.actor
        endpoint_id = decode(input.id, "WebhookEndpoint", field="id")
        record, errors = await attempt(
            endpoints.delete_endpoint(
                context.store, context.identity, actor, endpoint_id, now=context.now()
            )
        )
        node = WebhookEndpointNode.from_record(record) if record is not None else None
        return DeleteWebhookEndpointPayload(endpoint=node, errors=errors)

    @strawberry.mutation(
        description="ADMIN: send a SUCCEEDED or FAILED delivery again, as soon as the "
        "dispatcher gets to it (same event, same delivery id)."
    )
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> RedeliverWebhookPayload:
        context, actor = info.context, info.context.actor
        delivery_id = decode(input.delivery_id, "WebhookDelivery", field="deliveryId")
        record, errors = await attempt(
            endpoints.redeliver(
                context.store, context.identity, actor, delivery_id, now=context.now()
            )
        )
        node = WebhookDeliveryNode.from_record(record) if record is not None else None
        return RedeliverWebhookPayload(delivery=node, errors=errors)
